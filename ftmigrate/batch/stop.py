"""Stopping a batch: SIGINT or SIGTERM to ``ftmigrate batch`` stops it and every worker.

The parent and each worker process turn both signals into ``Stopped``, raised only where
the work can be undone (``StopSwitch.armed``). The parent then cancels the repositories not
started and passes the signal on to its workers; a worker rolls back the repository it is
migrating (its test command is killed, its worktree and patch removed, no branch made)
unless it has already started creating the branch, which it then finishes and records
(``shield``). Workers that have not answered after ``GRACE_SECONDS`` are killed and their
worktrees removed by the parent.

A Dask task runs in a worker's thread, out of reach of signals: the parent also leaves a
stop file in the output folder (which every worker sees), and a task checks it between
steps and while its test command runs (``StopCheck``), then rolls back the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Iterator

STOP_FILE = ".ftmigrate-stop"  # in the output folder while a stopped batch winds down
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))
GRACE_SECONDS = 5.0


def exit_code(signum: int) -> int:
    """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + signum


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


class Stopped(BaseException):
    """A stop signal arrived while the work could still be undone."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


class StopSwitch:
    """Remembers the first stop signal; raises ``Stopped`` for it only inside ``armed``."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._raising = False

    def _handler(self, signum: int, frame) -> None:
        if self.signum is None:
            self.signum = signum
        if self._raising:
            self._raising = False  # once: undoing the work must not be interrupted in turn
            raise Stopped(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator["StopSwitch"]:
        """Handle the stop signals while inside (main thread only; elsewhere a no-op)."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                previous[signum] = signal.signal(signum, self._handler)
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def install(self) -> None:
        """For good, in a worker process."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handler)

    @contextlib.contextmanager
    def armed(self) -> Iterator[None]:
        if self.signum is not None:
            raise Stopped(self.signum)
        self._raising = True
        try:
            yield
        finally:
            self._raising = False

    def shield(self) -> None:
        """From here on, finish: a stop signal is remembered, not raised."""
        self._raising = False


# The switch of this worker process (a Dask worker runs tasks in threads: it stays inert).
WORKER = StopSwitch()


def start_worker() -> None:
    """Pool initializer: a worker handles stop signals itself."""
    WORKER.install()


def request_stop(output: Path, signum: int) -> None:
    """Tell every worker, wherever it runs, that the batch is stopping."""
    with contextlib.suppress(OSError):
        (output / STOP_FILE).write_text(f"{signum}\n", encoding="ascii")


def clear_stop(output: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(output / STOP_FILE)


def stop_requested(output: Path) -> int | None:
    try:
        return int((output / STOP_FILE).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


class StopCheck:
    """Called between a repository's steps: ``Stopped`` once the batch is stopping (this
    process got the signal, or the parent left the stop file)."""

    def __init__(self, output: Path) -> None:
        self.output = output

    def __call__(self) -> None:
        signum = WORKER.signum or stop_requested(self.output)
        if signum:
            raise Stopped(signum)
