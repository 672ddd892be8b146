"""Report formats beyond the original text and JSON (which live in ``ftmigrate.reporting``).

Each module turns a finished ``RunReport`` into one output: ``sarif`` (SARIF 2.1.0 for code
scanning dashboards and editors), ``github`` (workflow annotations), ``jsonlines`` (one JSON
object per line, for streaming into other tools) and ``statistics`` (counts per rule).
"""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    json_lines = "json-lines"
    github = "github"
    sarif = "sarif"


# Formats that report findings to machines: with `apply --diff` they replace the diff.
MACHINE_FORMATS = frozenset({OutputFormat.json_lines, OutputFormat.github, OutputFormat.sarif})
