"""Shared fixtures: a free-threaded interpreter, temp projects, and running the CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "testdata"
# ../shared/tools/ft-python.sh next to the checkout (a worktree sits one level deeper).
FT_PYTHON_SCRIPT = next(
    (p / "shared" / "tools" / "ft-python.sh" for p in REPO.parents if (p / "shared" / "tools" / "ft-python.sh").exists()),
    REPO.parent / "shared" / "tools" / "ft-python.sh",
)


@pytest.fixture(scope="session")
def ft_python() -> str:
    """Path of a free-threaded CPython 3.13 (GIL disabled), built once per machine.

    ``FT_PYTHON`` may name one directly. The tests that need it are skipped, with the
    reason, only when it cannot be had at all.
    """
    exe = os.environ.get("FT_PYTHON")
    if not exe:
        if not FT_PYTHON_SCRIPT.exists():
            pytest.skip(f"free-threaded interpreter unavailable: {FT_PYTHON_SCRIPT} not found")
        proc = subprocess.run(["bash", str(FT_PYTHON_SCRIPT)], capture_output=True, text=True, timeout=3000)
        if proc.returncode != 0:
            pytest.skip(f"free-threaded interpreter could not be built: {proc.stderr.strip()[-500:]}")
        exe = proc.stdout.strip().splitlines()[-1]
    check = subprocess.run([exe, "-c", "import sys; print(sys._is_gil_enabled())"], capture_output=True, text=True)
    assert check.stdout.strip() == "False", f"{exe} runs with the GIL enabled: {check.stdout}{check.stderr}"
    return exe


def run_ft(ft_python: str, path: Path, timeout: int = 300) -> str:
    """Run a program on the free-threaded interpreter; return its stdout (it must succeed)."""
    proc = subprocess.run([ft_python, "-X", "gil=0", str(path)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
