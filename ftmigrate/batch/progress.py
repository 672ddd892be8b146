"""Progress of a batch on stderr: a rich progress bar on a terminal, plain lines otherwise;
both show the repositories being worked on and, once a few are done, the time left."""

from __future__ import annotations

import sys
import time
from typing import IO, Callable, Sequence

from ftmigrate.batch.model import (
    CHANGED,
    CLEAN,
    FAILED,
    NOT_STARTED,
    ROLLED_BACK,
    SKIPPED,
    RepoResult,
)
from ftmigrate.terminal import is_terminal

_STYLE = {CHANGED: "green", CLEAN: "dim", FAILED: "bold red", SKIPPED: "yellow", ROLLED_BACK: "magenta", NOT_STARTED: "dim"}


def describe(result: RepoResult) -> str:
    """One line about a finished repository."""
    if result.status in (FAILED, ROLLED_BACK, NOT_STARTED):
        detail = result.error or result.status
    elif result.status == SKIPPED:
        detail = "; ".join(result.notes) or "skipped"
    elif result.status == CLEAN:
        detail = "nothing to change" + (f", {result.not_fixable} not auto-fixable" if result.not_fixable else "")
    else:
        files = len(result.files_changed)
        detail = f"{result.fixed} fixed in {files} file{'s' * (files != 1)}"
        if result.not_fixable:
            detail += f", {result.not_fixable} not auto-fixable"
        if result.test is not None:
            detail += ", tests passed"
        detail += f" -> {result.branch}" if result.branch else " (dry run)"
    return f"{result.status}{' (resumed)' if result.resumed else ''}: {detail}"


ETA_AFTER = 2  # finished repositories before the time left is estimated


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class Pace:
    """Which repositories are being worked on, and the time left. Repositories are handed to
    workers in order (both executors queue them first in, first out), so the ``jobs`` first
    unfinished ones are those in progress."""

    def __init__(self, names: Sequence[str], jobs: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.pending = list(names)
        self.jobs, self.clock, self.started, self.done = max(1, jobs), clock, clock(), 0

    def finished(self, name: str) -> None:
        if name in self.pending:
            self.pending.remove(name)
        self.done += 1

    def status(self) -> str:
        if not self.pending:
            return ""
        text = "working on " + ", ".join(self.pending[: self.jobs])
        if self.done >= ETA_AFTER:
            left = (self.clock() - self.started) / self.done * len(self.pending)
            text += f"; about {duration(left)} left"
        return text


class PlainProgress:
    def __init__(self, total: int, stream: IO[str] | None = None, pace: Pace | None = None) -> None:
        self.total, self.count = total, 0
        self.stream = stream or sys.stderr
        self.pace = pace

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def __call__(self, result: RepoResult) -> None:
        self.count += 1
        line = f"[{self.count}/{self.total}] {result.name}: {describe(result)}"
        if self.pace is not None:
            self.pace.finished(result.name)
            line += f" ({status})" if (status := self.pace.status()) else ""
        print(line, file=self.stream, flush=True)


class RichProgress:
    """A bar counting finished repositories, with each repository's status printed above it."""

    def __init__(self, total: int, console=None, pace: Pace | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console or Console(file=sys.stderr, force_terminal=True)
        self.progress = Progress(
            TextColumn("[bold]ftmigrate batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
        )
        self.counts = dict.fromkeys(_STYLE, 0)
        self.pace = pace
        self.task = self.progress.add_task("repositories", total=total, counts="", status=pace.status() if pace else "")

    def __enter__(self) -> "RichProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def __call__(self, result: RepoResult) -> None:
        from rich.markup import escape

        self.counts[result.status] += 1
        style = _STYLE[result.status]
        self.progress.console.print(f"[{style}]{escape(result.name)}[/]: {escape(describe(result))}", highlight=False)
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        status = ""
        if self.pace is not None:
            self.pace.finished(result.name)
            status = self.pace.status()
        self.progress.update(self.task, advance=1, counts=counts, status=status)


def make_progress(names: Sequence[str], jobs: int):
    """Decided as for ``apply``'s bar (``ftmigrate.terminal``: a tty, or FORCE_COLOR)."""
    pace = Pace(names, jobs)
    if not is_terminal(sys.stderr):
        return PlainProgress(len(names), pace=pace)
    from rich.console import Console

    return RichProgress(len(names), Console(file=sys.stderr, force_terminal=True), pace)
