"""`ftmigrate verify` end to end, on the real free-threaded interpreter (the ``ft_python`` fixture).

The venvs go to a temporary FTMIGRATE_CACHE (pip's own cache keeps the downloads); each
module builds its project's venv once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, TESTDATA

REGISTRY_TEST = "tests/test_registry.py::test_connection_is_opened_once"


def verify(project: Path, cache: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    run_env = dict(env if env is not None else os.environ, FTMIGRATE_CACHE=str(cache), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "ftmigrate", "verify", str(project), *args],
        capture_output=True, text=True, env=run_env, timeout=900,
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    """testdata/verify/registry_project in a git repository of its own: its check-then-act races."""
    project = tmp_path_factory.mktemp("registry") / "registry_project"
    shutil.copytree(TESTDATA / "verify" / "registry_project", project)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "racy"]):
        subprocess.run(["git", *args], cwd=project, check=True)
    return project


def test_apply_removes_the_thread_failure(ft_python, cache, registry):
    # The registry's fix holds its lock while the factory runs: an unsafe fix, so asked for.
    proc = verify(
        registry, cache, "--python", ft_python, "--threads", "4", "--iterations", "1", "--format", "json", "--unsafe-fixes"
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    working, applied = report["trees"]
    assert [working["label"], applied["label"]] == ["working tree", "after apply"]
    verdicts = {t["nodeid"]: t for t in working["tests"]}
    racy = verdicts[REGISTRY_TEST]
    assert (racy["verdict"], racy["single"], racy["threaded"]) == ("fails only in threads", "passed", ["failed"] * 3)
    assert racy["message"].splitlines()[0] == "assert 4 == 1"
    assert [(f["rule"], f["path"], f["line"], f["via"]) for f in racy["findings"]] == [
        ("FT002", "src/registry_demo/__init__.py", 9, "imported by the test")
    ]
    assert verdicts["tests/test_registry.py::test_double"]["verdict"] == "passes"
    assert working["not_run_in_parallel"] == [
        {"nodeid": "tests/test_registry.py::test_prints", "reason": "uses thread-unsafe fixture(s): {'capsys'}"}
    ]
    assert working["counts"] == {"fails only in threads": 1, "passes": 2}
    assert applied["counts"] == {"passes": 3}
    assert applied["apply"] == {"changed_files": ["src/registry_demo/__init__.py"], "fixed": 1, "not_fixed": 0, "errors": 0}
    assert report["comparison"]["fixed"] == [REGISTRY_TEST]
    assert report["comparison"]["broken"] == []
    assert report["gil"]["stays_off"] is True
    assert working["gil_enabled_in_tests"] is False
    # verify reads the project, it does not change it
    assert subprocess.run(["git", "status", "--porcelain"], cwd=registry, capture_output=True, text=True).stdout == ""


def test_compare_ref_after_apply_is_clean(ft_python, cache, registry):
    subprocess.run([sys.executable, "-m", "ftmigrate", "apply", "-q", "--unsafe-fixes", str(registry)], env=dict(os.environ, PYTHONPATH=str(REPO)))
    proc = verify(registry, cache, "--python", ft_python, "--threads", "4", "--iterations", "1", "--rounds", "2", "--compare-ref", "HEAD",
                  "--", "-k", "not test_prints")  # pytest's own arguments pass through
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("working tree: 2 tests: 2 passes (") for line in lines)
    assert any(line.startswith("ref HEAD: 2 tests: 1 fails only in threads, 1 passes (") for line in lines)
    assert "working tree vs ref HEAD: 1 thread failure(s) removed, 0 still failing, 0 test(s) broken" in lines
    assert lines[-1] == "exit code 0"


# -- a dependency that re-enables the GIL, crashes, hangs and flaky tests -------------------

GIL_USED = """
#include <Python.h>
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "NAME", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_NAME(void) { return PyModule_Create(&mod); }
"""
GIL_NOT_USED = """
#include <Python.h>
static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "fasty", NULL, 0, NULL, slots};
PyMODINIT_FUNC PyInit_fasty(void) { return PyModuleDef_Init(&mod); }
"""
OUTCOMES_TESTS = '''
import os
import time
from pathlib import Path

MARK = Path(__file__).parent / "flaky-mark"


def test_imports():
    import fasty, gilly, purely
    assert purely.ANSWER == 42


def test_crashes_in_threads(num_parallel_threads):
    if num_parallel_threads > 1:
        os.abort()


def test_hangs_in_threads(num_parallel_threads):
    if num_parallel_threads > 1:
        time.sleep(600)


def test_flaky_in_threads(num_parallel_threads):
    if num_parallel_threads > 1 and not MARK.exists():
        MARK.touch()
        raise AssertionError("first threaded run")


def test_after_the_crash():
    pass
'''


def _wheel(folder: Path, name: str, tag: str, files: dict[str, bytes]) -> Path:
    """A wheel made by hand: ``files`` plus its dist-info (METADATA, WHEEL, RECORD)."""
    info = f"{name}-0.1.dist-info"
    files = dict(files)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n".encode()
    files[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: {tag}\n".encode()
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for path, data in files.items()
    ) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    path = folder / f"{name}-0.1-{tag}.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in files.items():
            wheel.writestr(member, data)
    return path


def _extension_wheel(ft_python: str, folder: Path, name: str, source: str) -> Path:
    query = "import sysconfig as s; print(s.get_paths()['include'], s.get_config_var('EXT_SUFFIX'), s.get_platform())"
    include, suffix, platform = subprocess.run([ft_python, "-c", query], capture_output=True, text=True, check=True).stdout.split()
    (folder / f"{name}.c").write_text(source)
    built = folder / f"{name}{suffix}"
    subprocess.run(["gcc", "-shared", "-fPIC", f"-I{include}", str(folder / f"{name}.c"), "-o", str(built)], check=True)
    tag = f"cp313-cp313t-{platform.replace('-', '_').replace('.', '_')}"
    return _wheel(folder, name, tag, {built.name: built.read_bytes()})


@pytest.fixture(scope="module")
def gil_project(ft_python, tmp_path_factory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    deps = [
        _extension_wheel(ft_python, wheels, "gilly", GIL_USED.replace("NAME", "gilly")),
        _extension_wheel(ft_python, wheels, "fasty", GIL_NOT_USED),
        _wheel(wheels, "purely", "py3-none-any", {"purely.py": b"ANSWER = 42\n"}),
    ]
    project = tmp_path_factory.mktemp("gil") / "gil_project"
    (project / "tests").mkdir(parents=True)
    (project / "app.py").write_text("import gilly\n")
    # The project's own extension, built in place by the editable install.
    (project / "projext.c").write_text(GIL_USED.replace("NAME", "projext"))
    (project / "setup.py").write_text('from setuptools import Extension, setup\nsetup(ext_modules=[Extension("projext", ["projext.c"])])\n')
    dependencies = ", ".join(f'"{p.name.split("-")[0]} @ {p.as_uri()}"' for p in deps)
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=64"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "gil-project"
        version = "0.1"
        dependencies = [{dependencies}, "pytest>=8"]

        [tool.setuptools]
        py-modules = ["app"]
        """))
    (project / "tests" / "test_outcomes.py").write_text(OUTCOMES_TESTS)
    return project


def test_gil_check_crash_hang_and_flaky(ft_python, cache, gil_project):
    proc = verify(gil_project, cache, "--python", ft_python, "--threads", "2", "--iterations", "1", "--timeout", "4",
                  "--no-compare", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    deps = {d["name"]: (d["kind"], d["installed_from"], d["gil_modules"]) for d in report["gil"]["dependencies"]}
    assert deps["gilly"] == ("extension re-enables the GIL", "cp313t wheel", ["gilly"])
    assert deps["fasty"] == ("extension, supports free-threading", "cp313t wheel", [])
    assert deps["purely"] == ("pure Python", "pure wheel", [])
    # its own extension, not the gilly its app.py imports
    assert deps["gil-project"] == ("extension re-enables the GIL", "editable", ["projext"])
    assert report["gil"]["reenabled_by"] == ["projext", "gilly"]
    (tree,) = report["trees"]
    assert tree["gil_enabled_in_tests"] is False  # the tests themselves ran with PYTHON_GIL=0
    verdicts = {t["nodeid"].split("::")[1]: (t["verdict"], t["single"], t["threaded"]) for t in tree["tests"]}
    assert verdicts == {
        "test_crashes_in_threads": ("crashes in threads", "passed", ["crash"]),
        "test_hangs_in_threads": ("hangs in threads", "passed", ["hang"]),
        "test_flaky_in_threads": ("flaky in threads", "passed", ["failed", "passed", "passed"]),
        "test_imports": ("passes", "passed", ["passed"]),
        "test_after_the_crash": ("passes", "passed", ["passed"]),
    }
    crash = next(t for t in tree["tests"] if t["verdict"] == "crashes in threads")
    assert crash["message"] == "the process died of SIGABRT"


def test_no_free_threaded_interpreter_is_exit_2(tmp_path):
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "pyenv")}  # nothing to find
    proc = verify(TESTDATA / "verify" / "registry_project", tmp_path / "cache", env=env)
    assert proc.returncode == 2
    assert proc.stderr.startswith("ftmigrate: error: no free-threaded CPython 3.13/3.14 found.")
    assert "Get one with any of:" in proc.stderr
    assert proc.stdout == ""


def test_python_that_is_not_free_threaded_is_exit_2(tmp_path):
    proc = verify(TESTDATA / "verify" / "registry_project", tmp_path / "cache", "--python", sys.executable)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"ftmigrate: error: {sys.executable} is not a free-threaded CPython")


def test_arguments_after_double_dash_are_not_the_path(tmp_path):
    # `-k` would be taken for PATH ("-k is not a folder") if `--` were left to click
    proc = subprocess.run(
        [sys.executable, "-m", "ftmigrate", "verify", "--python", sys.executable, "--", "-k", "x"],
        capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"ftmigrate: error: {sys.executable} is not a free-threaded CPython")


REPORT = {
    "project": "/p",
    "python": {"executable": "/py/python3.13t", "version": "3.13.5", "found_by": "PATH"},
    "settings": {"threads": 8, "iterations": 3, "rounds": 3, "timeout": 120.0, "pytest_args": []},
    "gil": {"stays_off": False, "reenabled_by": ["fast._ext"], "dependencies": [
        {"name": "fast", "version": "1.0", "kind": "extension re-enables the GIL", "installed_from": "cp313t wheel",
         "gil_modules": ["fast._ext"], "extensions": 1, "errors": [], "is_project": False},
        {"name": "p", "version": "0.1", "kind": "pure Python", "installed_from": "editable",
         "gil_modules": [], "extensions": 0, "errors": [], "is_project": True},
    ]},
    "trees": [{
        "label": "working tree", "seconds": 2.5, "problems": [], "apply": None,
        "counts": {"fails only in threads": 1, "passes": 1},
        "not_run_in_parallel": [{"nodeid": "t.py::test_out", "reason": "uses thread-unsafe fixture(s): {'capsys'}"}],
        "tests": [{"nodeid": "t.py::test_count", "verdict": "fails only in threads", "single": "passed",
                   "threaded": ["failed", "failed", "failed"], "message": "assert 7 == 8\n+ where 7 = n()",
                   "findings": [{"rule": "FT001", "path": "p/c.py", "line": 4, "via": "traceback line",
                                 "message": "`n` is read, modified and written without a lock", "fixable": True}]},
                  {"nodeid": "t.py::test_out", "verdict": "passes", "single": "passed", "threaded": ["passed"]}],
    }],
    "comparison": None,
    "exit_code": 1,
}


def test_text_and_markdown_reports():
    from ftmigrate.threadtests.report import render_markdown, render_text

    assert render_text(REPORT) == textwrap.dedent("""\
        ftmigrate verify /p: CPython 3.13.5 free-threaded (/py/python3.13t), 8 threads x 3 iterations

        GIL: RE-ENABLED on import of fast._ext
          fast              1.0  extension re-enables the GIL  cp313t wheel  fast._ext
          p (this project)  0.1  pure Python                   editable

        working tree: 2 tests: 1 fails only in threads, 1 passes (2.5s)
          FAILS ONLY IN THREADS: t.py::test_count  (alone: passed; in threads: failed, failed, failed)
              assert 7 == 8
              ftmigrate FT001 p/c.py:4 (traceback line): `n` is read, modified and written without a lock
          not run in parallel: t.py::test_out (uses thread-unsafe fixture(s): {'capsys'})

        exit code 1
        """)
    assert render_markdown(REPORT) == textwrap.dedent("""\
        ## ftmigrate verify: `/p`

        CPython 3.13.5 free-threaded, 8 threads x 3 iterations.

        **GIL: RE-ENABLED on import of fast._ext**

        | distribution | version | kind | installed from | detail |
        |---|---|---|---|---|
        | fast | 1.0 | extension re-enables the GIL | cp313t wheel | fast._ext |
        | p (this project) | 0.1 | pure Python | editable |  |

        ### working tree

        2 tests: 1 fails only in threads, 1 passes (2.5s)

        | test | verdict | error | ftmigrate findings |
        |---|---|---|---|
        | `t.py::test_count` | fails only in threads | assert 7 == 8 | FT001 `p/c.py:4` |

        Not run in parallel: `t.py::test_out` (uses thread-unsafe fixture(s): {'capsys'})
        """)


def test_test_extra_is_read_from_pyproject_or_setup_cfg(tmp_path):
    from ftmigrate.threadtests.env import test_requirements

    (tmp_path / "setup.cfg").write_text("[options.extras_require]\ndocs =\n    sphinx\ntesting =\n    pytest\n    pytest-cov\n")
    assert test_requirements(tmp_path) == ("testing", None)  # waitress declares its test extra so
    (tmp_path / "pyproject.toml").write_text('[project.optional-dependencies]\ntest = ["pytest"]\n\n[dependency-groups]\ntests = ["pytest"]\n')
    assert test_requirements(tmp_path) == ("test", "tests")
    (tmp_path / "setup.cfg").write_text("[options.extras_require\nbroken")
    assert test_requirements(tmp_path) == ("test", "tests")
