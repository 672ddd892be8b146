"""verify and pytest-xdist: which options turn xdist on, and `-- -n 4` refused (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ftmigrate.threadtests.xdist import xdist_options
from tests.conftest import REPO, TESTDATA


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["-n", "2"], ["-n", "2"]),
        (["-ra", "-nauto", "-q"], ["-nauto"]),
        (["--numprocesses=4"], ["--numprocesses=4"]),
        (["--numprocesses", "logical", "--dist=loadscope"], ["--numprocesses", "logical", "--dist=loadscope"]),
        (["--dist", "loadfile", "--tx", "2*popen"], ["--dist", "loadfile", "--tx", "2*popen"]),
        (["-p", "xdist", "-n", "auto"], ["-p", "xdist", "-n", "auto"]),
        (["-pxdist"], ["-pxdist"]),
        # what turns it off, or is something else
        (["-n", "0", "--dist", "no"], []),
        (["-n0", "--dist=no", "-p", "no:xdist"], []),
        (["-k", "n", "-m", "not slow", "-p", "pytester"], []),
    ],
)
def test_xdist_options(args, found):
    assert xdist_options(args) == found


def test_xdist_in_pytest_args_is_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "ftmigrate", "verify", str(TESTDATA / "verify" / "xdist_project"), "--", "-k", "double", "-n", "4"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("ftmigrate: error: pytest-xdist's -n 4 cannot be used with verify: it runs every test in threads")
    assert proc.stdout == ""
