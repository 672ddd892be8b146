"""A whole run: discover files, check (and fix) each, write results atomically."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol, Sequence

from ftmigrate.config import Config
from ftmigrate.discovery import discover
from ftmigrate.engine import FileResult, check_file
from ftmigrate.rules import Rule
from ftmigrate.sourcefile import SourceError, os_reason, write_atomic

SCAN, APPLY, DIFF = "scan", "apply", "diff"


@dataclass
class RunReport:
    mode: str
    results: list[FileResult] = field(default_factory=list)

    @property
    def findings(self):
        return [f for r in self.results for f in r.findings]

    @property
    def errors(self) -> list[FileResult]:
        return [r for r in self.results if r.error is not None]

    @property
    def changed(self) -> list[FileResult]:
        return [r for r in self.results if r.changed and r.error is None]

    @property
    def files_checked(self) -> int:
        return sum(1 for r in self.results if r.source is not None)

    def exit_code(self) -> int:
        if any(r.internal for r in self.results):
            return 2
        if self.errors:
            return 1
        if self.mode == SCAN:
            return 1 if self.findings else 0
        if self.mode == DIFF:
            return 1 if self.changed else 0
        return 1 if any(not f.fixed for f in self.findings) else 0


class RunObserver(Protocol):
    """Told about a run as it goes (progress bar, --verbose); ``start`` gets the file count."""

    def start(self, total: int) -> None: ...

    def file_done(self, result: FileResult) -> None: ...

    def stop(self) -> None: ...


def display_path(path: Path) -> str:
    """Relative to the working directory when below it, so diffs apply with ``git apply -p1``."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def run(
    paths: Sequence[Path],
    rules: Sequence[Rule],
    config: Config,
    mode: str,
    *,
    force_exclude: bool = False,
    observer: RunObserver | None = None,
) -> RunReport:
    report = RunReport(mode=mode)
    found = discover(
        list(paths),
        exclude=config.exclude,
        root=config.root,
        respect_gitignore=config.respect_gitignore,
        force_exclude=force_exclude,
    )
    for path, reason in found.errors:
        report.results.append(FileResult(path=path, error=reason))
    if observer is not None:
        observer.start(len(found.files))
    try:
        for result in check_files(found.files, rules, fix=mode != SCAN, shared_classes=config.shared_classes):
            if mode == APPLY and result.changed and result.error is None:
                try:
                    write_atomic(result.source, result.new_text)
                except (SourceError, OSError) as exc:
                    result.error = str(exc) if isinstance(exc, SourceError) else f"cannot write: {os_reason(result.path, exc)}"
                    for finding in result.findings:
                        if finding.fixed:
                            finding.fixed = False
                            finding.unfixable_reason = "the file was not written"
            report.results.append(result)
            if observer is not None:
                observer.file_done(result)
    finally:
        if observer is not None:
            observer.stop()
    return report


def check_files(files: Iterable[Path], rules: Sequence[Rule], *, fix: bool, shared_classes: Sequence[str] = ()) -> Iterable[FileResult]:
    for path in files:
        yield check_file(path, rules, fix=fix, display=display_path(path), shared_classes=shared_classes)
