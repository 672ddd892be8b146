"""Turning a ``RunReport`` into text, JSON or a unified diff.

Findings and diffs go to stdout; per-file errors and the summary of ``--diff`` go to
stderr, so ``ftmigrate apply --diff | git apply -p1`` works.
"""

from __future__ import annotations

import difflib
import json
from typing import IO

from ftmigrate import __version__
from ftmigrate.results import FileResult, Finding
from ftmigrate.sourcefile import split_lines
from ftmigrate.runner import APPLY, DIFF, SCAN, RunReport, display_path
from ftmigrate.terminal import colorize_diff


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``, ``2 fixes``; ``many`` for the rest (``repositories``)."""
    if many is None:
        many = word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{n} {word if n == 1 else many}"


def summary(report: RunReport) -> dict:
    return {
        "files": report.files_checked,
        "findings": len(report.findings),
        "fixed": sum(f.fixed for f in report.findings),
        "errors": len(report.errors),
    }


def as_json(report: RunReport) -> str:
    data = {
        "version": __version__,
        "findings": [f.to_dict() for f in report.findings],
        "errors": [{"path": display_path(r.path), "message": r.error} for r in report.errors],
        "summary": summary(report),
    }
    return json.dumps(data, indent=2)


def error_lines(report: RunReport) -> list[str]:
    return [f"error: {display_path(r.path)}: {r.error}" for r in report.errors]


def text_lines(report: RunReport, *, fixed_files: bool = True) -> list[str]:
    """One line per finding (after apply: per finding left unfixed), then, after apply and
    unless ``fixed_files`` is false, one ``fixed path (N fixes)`` line per changed file."""
    lines = []
    for f in report.findings:
        if report.mode == SCAN:
            mark = " [*]" if f.fixable else ""
            lines.append(f"{f.path}:{f.line}:{f.column}: {f.rule}{mark} {f.message}{_confidence(f)}")
        elif not f.fixed:
            reason = f" (not fixed: {f.unfixable_reason})" if f.unfixable_reason else " (no automatic fix)"
            lines.append(f"{f.path}:{f.line}:{f.column}: {f.rule} {f.message}{_confidence(f)}{reason}")
    if report.mode == APPLY and fixed_files:
        for r in report.changed:
            lines.append(f"fixed {display_path(r.path)} ({plural(r.fixed, 'fix')})")
    return lines


def _confidence(f: Finding) -> str:
    return f" [confidence: {f.confidence}]" if f.confidence else ""


def summary_line(report: RunReport) -> str:
    s = summary(report)
    errors = f", {plural(s['errors'], 'error')}" if s["errors"] else ""
    if report.mode == SCAN:
        if not s["files"] and not s["errors"]:
            return "No Python files checked."  # checking nothing is not passing (see the warning)
        if not s["findings"] and not s["errors"]:
            return f"All checks passed: no findings in {plural(s['files'], 'file')}."
        if not s["findings"]:  # a file that could not be checked is no pass
            return f"No findings in {plural(s['files'], 'file')}{errors}."
        fixable = sum(f.fixable for f in report.findings)
        return (
            f"Found {plural(s['findings'], 'finding')} in {plural(s['files'], 'file')} "
            f"({fixable} fixable with `ftmigrate apply`){errors}."
        )
    remaining = s["findings"] - s["fixed"]
    verb = "Would fix" if report.mode == DIFF else "Fixed"
    return (
        f"{verb} {plural(s['fixed'], 'finding')} in {plural(len(report.changed), 'file')}; "
        f"{remaining} remaining{errors}."
    )


def unified_diff(result: FileResult) -> bytes:
    """A git-applyable diff of one file, in the file's own encoding and line endings."""
    path = display_path(result.path).lstrip("/")
    bom = "\ufeff" if result.source.encoding == "utf-8-sig" else ""
    old = split_lines(bom + result.source.text)
    new = split_lines(bom + result.new_text)
    out = []
    for line in difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=3):
        if line.startswith(("---", "+++", "@@")):
            out.append(line if line.endswith("\n") else line + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out).encode(result.source.encoding.replace("-sig", ""))


def write_diffs(report: RunReport, stream: IO[bytes], *, color: bool = False) -> None:
    for result in report.changed:
        diff = unified_diff(result)
        stream.write(colorize_diff(diff) if color else diff)
    stream.flush()
