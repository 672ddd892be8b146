"""What a run says on stderr while it works: a progress bar, or per-file lines with --verbose.

The bar is shown only for runs of more than ``PROGRESS_MIN_FILES`` files and only when
stderr is a terminal (see ``ftmigrate.terminal``); it is transient, so nothing of it is
left in the scrollback. ``--quiet`` turns it off, ``--verbose`` replaces nothing: its
lines are printed above the bar.
"""

from __future__ import annotations

import sys

import typer

from ftmigrate.reporting import plural
from ftmigrate.results import FileResult
from ftmigrate.runner import display_path
from ftmigrate.terminal import is_terminal

PROGRESS_MIN_FILES = 200


def file_line(result: FileResult, fixing: bool) -> str:
    display = display_path(result.path)
    if result.error is not None:
        return f"{display}: error"
    found = plural(len(result.findings), "finding") if result.findings else "no findings"
    fixed = f", {result.fixed} fixed" if fixing and result.findings else ""
    return f"{display}: {found}{fixed}"


class Feedback:
    """The run observer (``runner.run(observer=...)``): ``start``, ``file_done``, ``stop``."""

    def __init__(self, *, quiet: bool, verbose: bool, fixing: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.fixing = fixing
        self._progress = None
        self._task = None

    def note(self, line: str) -> None:
        """A --verbose line on stderr (above the bar when there is one)."""
        if not self.verbose:
            return
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            typer.echo(line, err=True)

    def start(self, total: int) -> None:
        self.note(f"checking {plural(total, 'file')}")
        if self.quiet or total <= PROGRESS_MIN_FILES or not is_terminal(sys.stderr):
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=sys.stderr, force_terminal=True)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("Checking" if not self.fixing else "Fixing", total=total)
        self._progress.start()

    def file_done(self, result: FileResult) -> None:
        self.note(file_line(result, self.fixing))
        if self._progress is not None:
            self._progress.advance(self._task)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
