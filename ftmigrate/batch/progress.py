"""Progress of a batch on stderr: a rich progress bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import IO

from ftmigrate.batch.model import CHANGED, CLEAN, FAILED, NOT_STARTED, ROLLED_BACK, SKIPPED, RepoResult
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


class PlainProgress:
    def __init__(self, total: int, stream: IO[str] | None = None) -> None:
        self.total, self.count = total, 0
        self.stream = stream or sys.stderr

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def __call__(self, result: RepoResult) -> None:
        self.count += 1
        print(f"[{self.count}/{self.total}] {result.name}: {describe(result)}", file=self.stream, flush=True)


class RichProgress:
    """A bar counting finished repositories, with each repository's status printed above it."""

    def __init__(self, total: int, console=None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console or Console(file=sys.stderr, force_terminal=True)
        self.progress = Progress(
            TextColumn("[bold]ftmigrate batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.counts = dict.fromkeys(_STYLE, 0)
        self.task = self.progress.add_task("repositories", total=total, counts="")

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
        self.progress.update(self.task, advance=1, counts=counts)


def make_progress(total: int):
    """Decided as for ``apply``'s bar (``ftmigrate.terminal``: a tty, or FORCE_COLOR)."""
    if not is_terminal(sys.stderr):
        return PlainProgress(total)
    from rich.console import Console

    return RichProgress(total, Console(file=sys.stderr, force_terminal=True))
