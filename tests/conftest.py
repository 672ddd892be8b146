"""Shared fixtures: a free-threaded interpreter, temp projects, and running the CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ftmigrate.freethreaded import BUILD_SCRIPT, NoFreeThreadedPython, find_free_threaded_python

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "testdata"
FIX_COMMAND = f"bash {os.path.relpath(BUILD_SCRIPT)}" if BUILD_SCRIPT.is_relative_to(Path.cwd()) else f"bash {BUILD_SCRIPT}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-ft-python",
        action="store_true",
        help="fail (never skip) the free-threaded tests when no free-threaded CPython can be found or built; "
        "implied when the CI environment variable is set",
    )


def ft_python_required(config: pytest.Config) -> bool:
    """In CI (``CI`` set, as every CI service does) or with --require-ft-python."""
    ci = os.environ.get("CI", "").strip().lower()
    return config.getoption("--require-ft-python") or ci not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def ft_python(request: pytest.FixtureRequest) -> str:
    """Path of a free-threaded CPython (GIL disabled), found by ``ftmigrate.freethreaded``:
    ``FT_PYTHON``, ``python3.14t``/``python3.13t`` on PATH, uv, pyenv, or the project's own
    build (scripts/build-free-threaded-python.sh, run here once per machine when nothing else
    is found: about 5 minutes, then cached).

    When none can be had, the tests that need it fail in CI (or with --require-ft-python)
    and are skipped elsewhere, naming the command that fixes it."""
    try:
        found = find_free_threaded_python(build=True)
    except NoFreeThreadedPython as exc:
        reason = f"free-threaded CPython unavailable; fix: {FIX_COMMAND} (or set FT_PYTHON)\n{exc}"
        if ft_python_required(request.config):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    check = subprocess.run([found.executable, "-c", "import sys; print(sys._is_gil_enabled())"], capture_output=True, text=True)
    assert check.stdout.strip() == "False", f"{found.executable} runs with the GIL enabled: {check.stdout}{check.stderr}"
    return found.executable


def run_ft(ft_python: str, path: Path, timeout: int = 300) -> str:
    """Run a program on the free-threaded interpreter; return its stdout (it must succeed)."""
    proc = subprocess.run([ft_python, "-X", "gil=0", str(path)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
