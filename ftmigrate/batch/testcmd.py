"""Running ``--test-cmd`` in a migrated worktree: a shell command, a timeout, the output's tail."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from ftmigrate.batch.gitcmd import clean_environment
from ftmigrate.batch.model import CommandOutcome

TAIL_LINES = 40
_TAIL_BYTES = 64 * 1024


POLL_SECONDS = 0.25  # how often a running command looks at ``check`` (a batch being stopped)


def run_test_command(command: str, cwd: Path, timeout: float, check: Callable[[], None] | None = None) -> CommandOutcome:
    """``check`` is called while the command runs; whatever it raises ends the command."""
    started = time.monotonic()
    # Output goes to a file, not a pipe: a test suite can print megabytes, and a grandchild
    # that outlives a killed shell cannot keep us waiting for a pipe to close.
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=clean_environment(),
            start_new_session=True,  # its own process group, so a timeout kills all of it
        )
        timed_out = False
        try:
            exit_code = _wait(proc, started + timeout, check)
            timed_out = exit_code is None
        finally:
            _kill_group(proc)
            proc.wait()
        tail = _tail(output)
    if timed_out:
        tail += f"\n[ftmigrate: timed out after {timeout:g} s; killed]"
    return CommandOutcome(
        command=command,
        passed=exit_code == 0,
        exit_code=exit_code,
        timed_out=timed_out,
        seconds=round(time.monotonic() - started, 3),
        output_tail=tail,
    )


def _wait(proc: subprocess.Popen, deadline: float, check: Callable[[], None] | None) -> int | None:
    """The exit code, or None at the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            return proc.wait(timeout=left if check is None else min(left, POLL_SECONDS))
        except subprocess.TimeoutExpired:
            if check is not None:
                check()


def _kill_group(proc: subprocess.Popen) -> None:
    """Also whatever the command left running in the background."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    elif proc.poll() is None:  # pragma: no cover - Windows
        proc.kill()


def _tail(output) -> str:
    size = output.seek(0, os.SEEK_END)
    output.seek(max(0, size - _TAIL_BYTES))
    text = output.read().decode("utf-8", "replace")
    return "\n".join(text.rstrip("\n").splitlines()[-TAIL_LINES:])
