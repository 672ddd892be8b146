"""Stopping a batch: SIGINT or SIGTERM to ``ftmigrate batch`` stops it and every worker.

The parent and each worker process turn both signals into ``Stopped``, raised only where
the work can be undone (``StopSwitch.armed``). The parent then cancels the repositories not
started and passes the signal on to its workers; a worker rolls back the repository it is
migrating (its test command is killed, its worktree and patch removed, no branch made)
unless it has already started creating the branch, which it then finishes and records
(``shield``). Workers that have not answered after ``GRACE_SECONDS`` are killed and their
worktrees removed by the parent.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

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
