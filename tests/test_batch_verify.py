"""`ftmigrate batch --verify` end to end, on the real free-threaded interpreter (the ``ft_python``
fixture): verify's columns in report.md/report.json, the up-front interpreter check, and a
stop that reaches verify's pytest. The venvs go to a temporary FTMIGRATE_CACHE (pip's own
cache keeps the downloads)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.batch_repos import branch_of, git, make_repo
from tests.conftest import REPO, TESTDATA

REGISTRY_TEST = "tests/test_registry.py::test_connection_is_opened_once"
HANG_TEST = """\
import os
import time
from pathlib import Path


def test_hangs():
    Path(os.environ["FTM_TEST_PIDFILE"]).write_text(str(os.getpid()))
    time.sleep(600)
"""


def running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may never reap an orphan)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def batch(*args: str, cache: Path, env: dict | None = None, **popen) -> subprocess.Popen:
    run_env = dict(env if env is not None else os.environ, FTMIGRATE_CACHE=str(cache), PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "ftmigrate", "batch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=run_env, **popen)


def as_repo(project: Path, destination: Path, extra_pyproject: str = "") -> Path:
    shutil.copytree(project, destination)
    with open(destination / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(extra_pyproject)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-qm", "start")
    return destination


@pytest.fixture(scope="module")
def verified(ft_python, tmp_path_factory):
    """One batch over two repositories: the racy registry (its fix is an unsafe one, which its
    config asks for) and the clean xdist project (its addopts has `-n 2`; one test aborts in threads)."""
    root = tmp_path_factory.mktemp("batch-verify")
    registry = as_repo(TESTDATA / "verify" / "registry_project", root / "repos" / "registry",
                       "\n[tool.ftmigrate]\nunsafe-fixes = true\n")
    xdist = as_repo(TESTDATA / "verify" / "xdist_project", root / "repos" / "xdist")
    proc = batch(str(registry), str(xdist), "--output", str(root / "out"), "--jobs", "1", "--verify",
                 "--python", ft_python, "--threads", "4", "--iterations", "1", "--timeout", "60", cache=root / "cache")
    stdout, stderr = proc.communicate(timeout=1200)
    return {"code": proc.returncode, "stdout": stdout, "stderr": stderr, "out": root / "out",
            "registry": registry, "xdist": xdist}


def test_report_json_has_verify_fields(verified, ft_python):
    assert verified["code"] == 1, verified["stderr"]  # the xdist project crashes in threads
    data = json.loads((verified["out"] / "report.json").read_text())
    assert data["options"]["verify"] == {"python": ft_python, "threads": 4, "iterations": 1, "timeout": 60.0}
    rows = {row["name"]: row for row in data["repositories"]}
    assert (rows["registry"]["status"], rows["xdist"]["status"]) == ("changed", "clean")
    head = git(verified["registry"], "rev-parse", "HEAD").strip()
    seconds = {name: rows[name]["verify"].pop("seconds") for name in rows}
    assert all(s > 0 for s in seconds.values())
    assert rows["registry"]["verify"] == {
        "gil_stays_off": True, "gil_reenabled_by": [], "passes": 3, "fails_only_in_threads": 0, "flaky": 0,
        "crashes": 0, "hangs": 0, "compared_with": head, "fixed": [REGISTRY_TEST], "broken": [],
        "xdist_turned_off": [], "error": None, "exit_code": 0, "report": "registry.verify.json",
    }
    assert rows["xdist"]["verify"] == {
        "gil_stays_off": True, "gil_reenabled_by": [], "passes": 2, "fails_only_in_threads": 0, "flaky": 0,
        "crashes": 1, "hangs": 0, "compared_with": None, "fixed": [], "broken": [],
        "xdist_turned_off": ["-n", "2", "--dist", "load"], "error": None, "exit_code": 1, "report": "xdist.verify.json",
    }
    # the registry's branch holds the fix verify compared; the clean project gets none
    assert branch_of(verified["registry"]) == rows["registry"]["commit"]
    assert branch_of(verified["xdist"]) is None


def test_report_md_rows(verified):
    lines = (verified["out"] / "report.md").read_text().splitlines()
    header = ("| Repository | GIL | Passes | Fail only in threads | Flaky | Crashes | Hangs | Fixed by the change "
              "| Broken by the change | Verify error |")
    at = lines.index(header)
    assert lines[at + 2: at + 4] == [
        "| registry | stays off | 3 | 0 | 0 | 0 | 0 | 1 | 0 |  |",
        "| xdist | stays off | 2 | 0 | 0 | 1 | 0 | - | - |  |",
    ]
    assert ("- verify turned pytest-xdist off (-n 0 --dist no) over the repository's pytest config: "
            "`-n 2 --dist load`") in lines


def test_each_repository_keeps_verifys_whole_report(verified):
    registry = json.loads((verified["out"] / "registry.verify.json").read_text())
    assert [t["label"] for t in registry["trees"]] == ["after ftmigrate", f"ref {git(verified['registry'], 'rev-parse', 'HEAD').strip()}"]
    assert [t["counts"] for t in registry["trees"]] == [{"passes": 3}, {"fails only in threads": 1, "passes": 2}]
    xdist = json.loads((verified["out"] / "xdist.verify.json").read_text())
    (tree,) = xdist["trees"]
    verdicts = {t["nodeid"]: (t["verdict"], t["single"], t["threaded"]) for t in tree["tests"]}
    # in one pytest process: not in an xdist worker, and the abort is a crash, not "worker crashed"
    assert verdicts == {
        "tests/test_where.py::test_crashes_in_threads": ("crashes in threads", "passed", ["crash"]),
        "tests/test_where.py::test_double": ("passes", "passed", ["passed"]),
        "tests/test_where.py::test_runs_in_the_pytest_process": ("passes", "passed", ["passed"]),
    }
    assert "pytest-xdist turned off for these runs (-n 0 --dist no) over the project's pytest config (-n 2 --dist load)" in (
        verified["out"] / "xdist.verify.md").read_text()


def test_no_free_threaded_interpreter_fails_before_any_repository(tmp_path):
    repo = make_repo(tmp_path / "repos" / "app", {"counter.py": "counter = 0\n\n\ndef bump():\n    global counter\n    counter += 1\n"})
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "pyenv")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not list(Path(p).glob("python3.1[34]t")))
    proc = batch(str(repo), "--output", str(tmp_path / "out"), "--verify", cache=tmp_path / "cache", env=env)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert stderr.startswith("ftmigrate: error: --verify: no free-threaded CPython 3.13/3.14 found.\nGet one with any of:\n")
    assert stdout == ""
    assert not (tmp_path / "out").exists()
    assert branch_of(repo) is None


def test_verify_options_need_verify(tmp_path):
    proc = batch(str(tmp_path), "--output", str(tmp_path / "out"), "--threads", "4", "--timeout", "9", cache=tmp_path / "cache")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert stderr == "ftmigrate: error: --threads, --timeout only apply with --verify\n"


def test_stop_kills_verifys_pytest_and_rolls_back(ft_python, tmp_path):
    repo = as_repo(TESTDATA / "verify" / "registry_project", tmp_path / "repos" / "hang")
    (repo / "tests" / "test_registry.py").write_text(HANG_TEST)
    git(repo, "commit", "-qam", "a test that hangs")
    pidfile = tmp_path / "pytest.pid"
    out = tmp_path / "out"
    proc = batch(str(repo), "--output", str(out), "--verify", "--python", ft_python, "--timeout", "500",
                 cache=tmp_path / "cache", env=dict(os.environ, FTM_TEST_PIDFILE=str(pidfile)))
    deadline = time.monotonic() + 600
    while not pidfile.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert pidfile.exists(), proc.communicate()
    time.sleep(0.5)
    pid = int(pidfile.read_text())
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert not running(pid)  # verify's pytest (its whole process group) is gone
    row = json.loads((out / "report.json").read_text())["repositories"][0]
    assert (row["status"], row["error"], row["verify"]) == ("rolled back", "stopped by SIGTERM undone: no branch, patch or worktree left", None)
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md"]
    assert branch_of(repo) is None


def test_the_stop_check_kills_the_test_process_group(tmp_path):
    """How a Dask task (out of reach of signals) stops verify: ``check`` raises while pytest runs."""
    from ftmigrate.threadtests.testrun import PytestRun, _follow, _Session

    class Stop(BaseException):
        pass

    pids = tmp_path / "pids"
    child = f"import os, subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); " \
            f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{p.pid}}'); time.sleep(60)"

    def check():
        if pids.exists() and pids.read_text():
            raise Stop

    session = _Session(tmp_path / "events.jsonl", PytestRun(), lambda nodeid, outcome: None)
    started = time.monotonic()
    with pytest.raises(Stop):
        _follow([sys.executable, "-c", child], tmp_path, dict(os.environ), tmp_path / "out.txt", session, 120, check)
    assert time.monotonic() - started < 30
    parent, grandchild = map(int, pids.read_text().split())
    time.sleep(0.5)
    assert not running(parent) and not running(grandchild)  # the whole group was killed
