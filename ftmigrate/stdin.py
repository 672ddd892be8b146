"""``ftmigrate scan -`` and ``apply -``: source from standard input, for editor integrations.

``--stdin-filename`` names the file the source belongs to: findings are reported under that
path, and the configuration is looked up from there. ``apply -`` writes the whole source to
stdout in its own encoding: fixed if there was something to fix, unchanged otherwise (also
when the source could not be processed, so an editor never loses a buffer).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Sequence

from ftmigrate.config import Config
from ftmigrate.engine import check_bytes
from ftmigrate.rules import Rule
from ftmigrate.runner import APPLY, SCAN, RunReport, display_path

STDIN = Path("-")


def run_stdin(raw: bytes, filename: Path | None, rules: Sequence[Rule], config: Config, mode: str) -> RunReport:
    path = filename or STDIN
    display = display_path(filename) if filename else "-"
    result = check_bytes(path, raw, rules, fix=mode != SCAN, display=display, **config.analysis_options())
    return RunReport(mode=mode, results=[result])


def write_source(report: RunReport, raw: bytes, stream: IO[bytes]) -> None:
    """After ``apply -``: the fixed source, or the input as it came."""
    assert report.mode == APPLY
    result = report.results[0]
    if result.error is None and result.changed:
        stream.write(result.source.encode(result.new_text))
    else:
        stream.write(raw)
    stream.flush()
