"""``scan --statistics``: how many findings each rule produced, most frequent first (as ruff).

Text rows are ``count<TAB>code<TAB>[*] name`` (``[*]``: ``apply`` can fix at least one of
them, ``[ ]``: none; unsafe fixes count only with ``--unsafe-fixes``); JSON is a list of
``{"code", "name", "count", "fixable"}`` with ``fixable`` the number of such findings.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

from ftmigrate.runner import RunReport


@dataclass
class RuleCount:
    code: str
    name: str
    count: int
    fixable: int


def rule_counts(report: RunReport, names: dict[str, str]) -> list[RuleCount]:
    counts = Counter(f.rule for f in report.findings)
    fixable = Counter(f.rule for f in report.findings if f.applicable(report.unsafe_fixes))
    rows = [RuleCount(code, names.get(code, ""), n, fixable[code]) for code, n in counts.items()]
    return sorted(rows, key=lambda row: (-row.count, row.code))


def statistics_lines(rows: list[RuleCount]) -> list[str]:
    width = max((len(str(row.count)) for row in rows), default=1)
    return [f"{row.count:>{width}}\t{row.code}\t{'[*]' if row.fixable else '[ ]'} {row.name}" for row in rows]


def statistics_json(rows: list[RuleCount]) -> str:
    return json.dumps([asdict(row) for row in rows], indent=2)
