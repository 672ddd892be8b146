"""``--format sarif``: a SARIF 2.1.0 log (OASIS standard) for code scanning and editors.

One ``reportingDescriptor`` per registered rule (documentation generated from the rule
class, see ``ftmigrate.ruledocs``), one ``result`` per finding with its exact region, and,
for findings ``apply`` fixes, a ``fix`` whose replacements turn the file into what ``apply``
writes. Fixes of one file are planned together (they share locks and ``import threading``),
so each fixable finding of a file carries the same, complete change of that file.

Regions use 1-based lines and columns counted in Unicode code points (``columnKind``),
``endColumn`` exclusive, as in the text and JSON output. Paths are relative to
``%SRCROOT%``, the working directory. Files that could not be processed become
``toolExecutionNotifications`` of level ``error``.
"""

from __future__ import annotations

import bisect
import difflib
import json
import os
from pathlib import Path
from typing import Callable, Optional, Sequence
from urllib.parse import quote

from ftmigrate import __version__
from ftmigrate import ruledocs
from ftmigrate.results import FileResult, Finding
from ftmigrate.sourcefile import split_lines
from ftmigrate.rules import Rule
from ftmigrate.runner import APPLY, RunReport, display_path

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"

# Given a file's result, the result of fixing it (with ``new_text`` and per-finding ``fixed``),
# or None when no fix is to be shown.
Preview = Callable[[FileResult], Optional[FileResult]]


CONFIDENCE_RANK = {"high": 90.0, "medium": 60.0, "low": 30.0}

def rule_descriptor(rule: type[Rule]) -> dict:
    what = ruledocs.what_it_does(rule)
    docs = rule.docs()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": ruledocs.plain_text(what), "markdown": what},
        "help": {"text": ruledocs.plain_text(docs), "markdown": docs},
        "helpUri": ruledocs.help_uri(rule),
        "defaultConfiguration": {"level": "warning"},
        "properties": {"fixable": rule.fixable(), "tags": ["free-threading", "concurrency"]},
    }


def artifact_location(path: str) -> dict:
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path), "uriBaseId": SRCROOT}


def _region(start: tuple[int, int], end: tuple[int, int]) -> dict:
    return {"startLine": start[0], "startColumn": start[1], "endLine": end[0], "endColumn": end[1]}


class _Positions:
    """Character offsets of a text -> 1-based (line, column); lines end as LibCST ends them."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for line in split_lines(text):
            if line.endswith(("\n", "\r")):
                self.starts.append(self.starts[-1] + len(line))

    def __call__(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def replacements(old: str, new: str) -> list[dict]:
    """SARIF replacements turning ``old`` into ``new``: one per changed run of lines, each
    deleting whole old lines (with their line endings) and inserting whole new ones.

    Listed from the end of the file to its start: applied one after the other in that order,
    each region is still where the original file had it."""
    old_lines, new_lines = split_lines(old), split_lines(new)
    offsets = [0]
    for line in old_lines:
        offsets.append(offsets[-1] + len(line))
    position = _Positions(old)
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(
                {
                    "deletedRegion": _region(position(offsets[i1]), position(offsets[i2])),
                    "insertedContent": {"text": "".join(new_lines[j1:j2])},
                }
            )
    return edits[::-1]


def _key(finding: Finding) -> tuple:
    return (finding.rule, finding.line, finding.column, finding.end_line, finding.end_column, finding.message)


def _fixes(result: FileResult, preview: Preview) -> dict[tuple, list[dict]]:
    """Finding key -> its ``fixes`` array, for the findings of ``result`` that a fix removes."""
    fixed = preview(result)
    if fixed is None or fixed.error is not None or not fixed.changed:
        return {}
    path = fixed.findings[0].path if fixed.findings else display_path(result.path)
    count = sum(f.fixed for f in fixed.findings)
    fix = {
        "description": {
            "text": f"Apply ftmigrate's {count} fix{'' if count == 1 else 'es'} to this file "
            "(they share locks and imports, so they are one change)"
        },
        "artifactChanges": [
            {"artifactLocation": artifact_location(path), "replacements": replacements(fixed.source.text, fixed.new_text)}
        ],
    }
    return {_key(f): [fix] for f in fixed.findings if f.fixed}


def _result(finding: Finding, rule_index: dict[str, int], report: RunReport, fixes: dict[tuple, list[dict]]) -> dict:
    data = {
        "ruleId": finding.rule,
        "level": "warning",
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": _region((finding.line, finding.column), (finding.end_line, finding.end_column)),
                }
            }
        ],
    }
    if finding.rule in rule_index:
        data["ruleIndex"] = rule_index[finding.rule]
    if _key(finding) in fixes:
        data["fixes"] = fixes[_key(finding)]
    properties = {"fixable": finding.fixable}
    if finding.confidence:
        # SARIF's rank (0-100) orders results by how much they matter; viewers sort by it.
        data["rank"] = CONFIDENCE_RANK[finding.confidence]
        properties["confidence"] = finding.confidence
    if report.mode == APPLY:
        properties["fixed"] = finding.fixed
    data["properties"] = properties
    return data


def _notification(result: FileResult) -> dict:
    return {
        "level": "error",
        "message": {"text": result.error},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(display_path(result.path))}}],
    }


def sarif_log(report: RunReport, registered: Sequence[type[Rule]], preview: Preview) -> dict:
    rule_index = {rule.code: i for i, rule in enumerate(registered)}
    results = []
    for file_result in report.results:
        fixes = _fixes(file_result, preview) if any(f.fixable for f in file_result.findings) else {}
        results += [_result(f, rule_index, report, fixes) for f in file_result.findings]
    run = {
        "tool": {
            "driver": {
                "name": "ftmigrate",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": ruledocs.README_URL,
                "rules": [rule_descriptor(rule) for rule in registered],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not any(r.internal for r in report.results),
                "toolExecutionNotifications": [_notification(r) for r in report.errors],
            }
        ],
        "originalUriBaseIds": {SRCROOT: {"uri": Path(os.getcwd()).as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: RunReport, registered: Sequence[type[Rule]], preview: Preview) -> str:
    return json.dumps(sarif_log(report, registered, preview), indent=2)
