"""ftmigrate.freethreaded finds a free-threaded CPython in the documented order, and only
one that really runs without the GIL; the test fixture fails in CI when there is none.

Interpreters here are small shell scripts that answer the probe like a real one would;
PATH, PYENV_ROOT, the cache folder and FT_PYTHON are all pointed at temp folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import sys
from pathlib import Path

import pytest

from ftmigrate import freethreaded
from ftmigrate.freethreaded import NoFreeThreadedPython, find_free_threaded_python, probe
from tests.conftest import REPO


def fake_python(path: Path, *, gil: bool = False, ft: bool = True, version: str = "3.13.9") -> str:
    """A script at ``path`` that answers the probe as an interpreter with these facts would;
    with PYTHON_GIL=1 in its environment it reports the GIL on, as CPython does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    answer = json.dumps({"gil": gil, "ft": ft, "version": version, "executable": str(path)})
    gil_on = json.dumps({"gil": True, "ft": ft, "version": version, "executable": str(path)})
    path.write_text(
        f"#!/bin/sh\n"
        f"case \"$*\" in *'-X gil=0'*) ;; *) echo 'probe must pass -X gil=0' >&2; exit 3;; esac\n"
        f"if [ \"$PYTHON_GIL\" = 1 ]; then echo '{gil_on}'; else echo '{answer}'; fi\n"
    )
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def bare(tmp_path: Path, monkeypatch) -> Path:
    """Nothing to find: an empty PATH folder, no pyenv, an empty cache, no FT_PYTHON, and a
    build script that must not run unless a test asks for it. Returns the PATH folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("FTMIGRATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FT_PYTHON", raising=False)
    monkeypatch.delenv("PYTHON_GIL", raising=False)
    monkeypatch.setattr(freethreaded, "BUILD_SCRIPT", tmp_path / "no-build-script.sh")
    return bin_dir


def test_ft_python_wins_over_everything(bare: Path, tmp_path: Path, monkeypatch):
    fake_python(bare / "python3.13t", version="3.13.1")
    chosen = fake_python(tmp_path / "elsewhere" / "mypython", version="3.14.0")
    monkeypatch.setenv("FT_PYTHON", chosen)
    found = find_free_threaded_python()
    assert (found.executable, found.version, found.source) == (chosen, "3.14.0", "FT_PYTHON")


def test_ft_python_may_be_a_command_name(bare: Path, monkeypatch):
    exe = fake_python(bare / "my-ft-python")
    monkeypatch.setenv("FT_PYTHON", "my-ft-python")
    assert (find_free_threaded_python().executable, find_free_threaded_python().source) == (exe, "FT_PYTHON")


def a_gil_python() -> str:
    """A real interpreter with the GIL: this one, or (when the suite runs on 3.13t) the system's."""
    for exe in (sys.executable, shutil.which("python3", path="/usr/local/bin:/usr/bin"), "/usr/bin/python3"):
        if exe and os.path.exists(exe):
            proc = subprocess.run([exe, "-c", "import sysconfig; print(bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"], capture_output=True, text=True)
            if proc.stdout.strip() == "False":
                return exe
    pytest.fail("no CPython with the GIL on this machine to test with")


def test_ft_python_naming_a_gil_interpreter_is_rejected(bare: Path, monkeypatch):
    """A normal build (GIL on) is not accepted, whatever FT_PYTHON says; the next candidate
    is used, and without one the error says what was rejected."""
    gil_python = a_gil_python()
    monkeypatch.setenv("FT_PYTHON", gil_python)
    with pytest.raises(NoFreeThreadedPython) as raised:
        find_free_threaded_python()
    assert f"{gil_python} (FT_PYTHON): not a free-threaded interpreter" in str(raised.value)
    exe = fake_python(bare / "python3.13t")
    found = find_free_threaded_python()
    assert (found.executable, found.source) == (exe, "PATH")


def test_path_prefers_314t_and_honours_the_wanted_version(bare: Path):
    t13 = fake_python(bare / "python3.13t", version="3.13.2")
    t14 = fake_python(bare / "python3.14t", version="3.14.1")
    assert find_free_threaded_python().executable == t14
    assert find_free_threaded_python("3.13").executable == t13
    assert find_free_threaded_python("3.14").version == "3.14.1"


@pytest.mark.parametrize(
    "facts, why",
    [
        ({"gil": True}, "built free-threaded but running with the GIL"),
        ({"ft": False}, "a GIL build whose file name ends in t"),
    ],
)
def test_a_name_ending_in_t_is_not_proof(bare: Path, facts: dict, why: str):
    fake_python(bare / "python3.13t", **facts)
    with pytest.raises(NoFreeThreadedPython, match=r"python3\.13t \(PATH\): not a free-threaded interpreter"):
        find_free_threaded_python()


def test_python_gil_in_the_environment_does_not_disqualify_a_real_one(bare: Path, monkeypatch):
    exe = fake_python(bare / "python3.13t")
    monkeypatch.setenv("PYTHON_GIL", "1")
    assert find_free_threaded_python().executable == exe


def test_broken_candidates_are_skipped(bare: Path):
    (bare / "python3.14t").write_text("#!/bin/sh\necho not json\n")
    (bare / "python3.14t").chmod(0o755)
    (bare / "python3.13t").write_text("#!/bin/sh\nexit 1\n")
    (bare / "python3.13t").chmod(0o755)
    assert probe(str(bare / "python3.14t")) is None
    assert probe(str(bare / "missing")) is None
    with pytest.raises(NoFreeThreadedPython) as raised:
        find_free_threaded_python()
    assert str(raised.value).count("not a free-threaded interpreter") == 2


def test_uv_managed_interpreter(bare: Path, tmp_path: Path):
    exe = fake_python(tmp_path / "uv-pythons" / "cpython-3.13.3t" / "bin" / "python3.13t", version="3.13.3")
    (bare / "uv").write_text(
        f"#!/bin/sh\n[ \"$1 $2 $3 $4\" = 'python find --no-python-downloads 3.13t' ] && echo {exe} && exit 0\nexit 2\n"
    )
    (bare / "uv").chmod(0o755)
    found = find_free_threaded_python()
    assert (found.executable, found.version, found.source) == (exe, "3.13.3", "uv")


def test_pyenv_interpreter_newest_first(bare: Path, tmp_path: Path):
    root = tmp_path / "pyenv" / "versions"
    fake_python(root / "3.13.0t" / "bin" / "python3.13t", version="3.13.0")
    newest = fake_python(root / "3.13.5t" / "bin" / "python3.13t", version="3.13.5")
    fake_python(root / "3.13.5" / "bin" / "python3.13t", version="3.13.5")  # not a t version folder
    found = find_free_threaded_python()
    assert (found.executable, found.source) == (newest, "pyenv")


def test_the_cached_build_is_found_last(bare: Path, tmp_path: Path):
    cached = fake_python(tmp_path / "cache" / "python-3.13t" / "bin" / "python3.13t")
    assert freethreaded.cache_dir() == tmp_path / "cache"
    assert (find_free_threaded_python().executable, find_free_threaded_python().source) == (cached, "build")
    on_path = fake_python(bare / "python3.13t")
    assert find_free_threaded_python().executable == on_path


def test_nothing_found_says_how_to_get_one(bare: Path):
    with pytest.raises(NoFreeThreadedPython) as raised:
        find_free_threaded_python(build=True)  # the build script does not exist here: not run
    message = str(raised.value)
    assert message.startswith("no free-threaded CPython 3.13/3.14 found.")
    for way in ("no-build-script.sh", "uv python install 3.13t", "pyenv install 3.13t", "FT_PYTHON="):
        assert way in message


def test_build_runs_the_script_only_when_asked(bare: Path, tmp_path: Path, monkeypatch):
    built = tmp_path / "built" / "python3.13t"
    script = tmp_path / "build.sh"
    script.write_text(f"echo building >&2\ntouch {tmp_path}/ran\necho {built}\n")
    monkeypatch.setattr(freethreaded, "BUILD_SCRIPT", script)
    monkeypatch.setenv("PATH", f"{bare}:/usr/bin:/bin")  # bash runs the script
    fake_python(built)
    with pytest.raises(NoFreeThreadedPython):
        find_free_threaded_python()
    assert not (tmp_path / "ran").exists()
    found = find_free_threaded_python(build=True)
    assert (found.executable, found.source) == (str(built), "build")
    assert (tmp_path / "ran").exists()


def test_a_failing_build_is_reported_with_its_error(bare: Path, tmp_path: Path, monkeypatch):
    script = tmp_path / "build.sh"
    script.write_text("echo 'build-free-threaded-python: apt-get not found' >&2\nexit 1\n")
    monkeypatch.setattr(freethreaded, "BUILD_SCRIPT", script)
    monkeypatch.setenv("PATH", f"{bare}:/usr/bin:/bin")
    with pytest.raises(NoFreeThreadedPython, match="apt-get not found"):
        find_free_threaded_python(build=True)


# The fixture itself: without an interpreter, CI fails (never skips); locally it skips and
# names the command that fixes it. A pytest run in a subprocess, with nothing to find and a
# `bash` that fails, so no build starts.
FIXTURE_USER = "def test_needs_it(ft_python):\n    assert ft_python\n"


def _pytest_without_interpreter(tmp_path: Path, *args: str, ci: str | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "test_user.py").write_text(FIXTURE_USER)
    bin_dir = tmp_path / "nobin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "bash").write_text("#!/bin/sh\necho 'no bash for builds here' >&2\nexit 1\n")
    (bin_dir / "bash").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "FT_PYTHON")}
    env.update(PATH=str(bin_dir), PYENV_ROOT=str(tmp_path / "pyenv"), FTMIGRATE_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(REPO))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-rs", "--rootdir", str(tmp_path), str(tmp_path / "test_user.py"), *args],
        capture_output=True, text=True, env=env, cwd=REPO,
    )


def test_fixture_skips_locally_naming_the_fix(tmp_path: Path):
    proc = _pytest_without_interpreter(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout
    assert "free-threaded CPython unavailable; fix: bash scripts/build-free-threaded-python.sh (or set FT_PYTHON)" in proc.stdout


@pytest.mark.parametrize("how", ["CI=true", "--require-ft-python"])
def test_fixture_fails_in_ci_or_when_required(tmp_path: Path, how: str):
    proc = _pytest_without_interpreter(tmp_path, *([how] if how.startswith("--") else []), ci="true" if how.startswith("CI") else None)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 error" in proc.stdout and "skipped" not in proc.stdout
    assert "free-threaded CPython unavailable" in proc.stdout and "no bash for builds here" in proc.stdout


@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"), reason="needs the suite to run on a free-threaded CPython, as .ci/run does")
def test_ftmigrate_runs_on_free_threaded_python_with_the_gil_off():
    """Importing ftmigrate (libcst's native parser, typer, rich) and scanning must not turn the
    GIL back on: an extension module without free-threading support would."""
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom ftmigrate.cli import app\n"
        "result = CliRunner().invoke(app, ['scan', '--no-cache', '--jobs', '1', 'testdata/demo'])\n"
        "print(result.exit_code, sys._is_gil_enabled())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert (proc.stdout, proc.stderr) == ("1 False\n", "")
