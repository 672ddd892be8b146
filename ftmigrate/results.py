"""What checking a file produces: ``Finding``s and a ``FileResult``.

Kept free of LibCST so that the parts of a run that only move results around (the
cache, the process pool's parent, reporting) start fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ftmigrate.sourcefile import SourceFile

if TYPE_CHECKING:
    from ftmigrate.locking import Inserted


@dataclass
class Finding:
    rule: str
    path: str
    line: int
    column: int  # 1-based, like ruff
    end_line: int
    end_column: int
    message: str
    fixable: bool
    fixed: bool = False
    unfixable_reason: str | None = None
    confidence: str | None = None  # "high" | "medium" | "low" (ftmigrate.confidence)
    confidence_reason: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("unfixable_reason")
        return data


@dataclass
class FileResult:
    path: Path
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    source: SourceFile | None = None
    new_text: str | None = None
    internal: bool = False  # the error is a bug of ours, not bad input (exit code 2)
    # What the rewrite added (for checking it again later, as scripts/selfcheck.py does),
    # and the rewritten text when the verifier refused it (new_text stays None then).
    inserted: Inserted | None = None
    refused_text: str | None = None
    # The file was read and decoded (it counts as checked). Set from ``source``; stays
    # True when ``slim()`` drops the source of a result that needs no rewrite.
    checked: bool = False

    def __post_init__(self) -> None:
        if self.source is not None:
            self.checked = True

    @property
    def changed(self) -> bool:
        return self.source is not None and self.new_text is not None and self.new_text != self.source.text

    @property
    def fixed(self) -> int:
        return sum(f.fixed for f in self.findings)

    def slim(self) -> FileResult:
        """This result without the file's bytes unless a rewrite needs them (cheap to send
        between processes)."""
        if self.source is not None and not self.changed:
            self.source = None
            self.new_text = None
        return self
