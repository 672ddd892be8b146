"""What verify says on stderr while it works (minutes): a live status line on a terminal,
plain phase lines otherwise (CI logs)."""

from __future__ import annotations

import sys

from ftmigrate.terminal import is_terminal
from ftmigrate.threadtests.outcomes import BAD as _BAD
from ftmigrate.threadtests.testrun import Outcome


class VerifyProgress:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.phase = ""
        self.done = self.bad = 0
        self._status = None
        if not quiet and is_terminal(sys.stderr):
            from rich.console import Console

            self._status = Console(file=sys.stderr, force_terminal=True).status("ftmigrate verify: starting")
            self._status.start()

    def say(self, line: str) -> None:
        self.phase, self.done, self.bad = line, 0, 0
        if self._status is not None:
            self._status.console.print(f"ftmigrate verify: {line}", markup=False, highlight=False)
            self._update()
        elif not self.quiet:
            print(f"ftmigrate verify: {line}", file=sys.stderr, flush=True)

    def test_done(self, nodeid: str, outcome: Outcome) -> None:
        self.done += 1
        self.bad += outcome.status in _BAD
        if self._status is not None:
            self._update(nodeid)

    def _update(self, last: str = "") -> None:
        failing = f", {self.bad} failing" if self.bad else ""
        self._status.update(f"{self.phase}: {self.done} tests done{failing}  {last[-60:]}")

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
