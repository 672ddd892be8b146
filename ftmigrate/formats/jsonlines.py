"""``--format json-lines``: one JSON object per line, every finding first, then every error.

Each object has a ``type`` (``finding`` or ``error``); a finding carries the same keys as in
``--format json``, so the two formats can be read by the same code.
"""

from __future__ import annotations

import json

from ftmigrate.runner import RunReport, display_path


def json_lines(report: RunReport) -> list[str]:
    lines = [json.dumps({"type": "finding", **finding.to_dict()}) for finding in report.findings]
    lines += [
        json.dumps({"type": "error", "path": display_path(result.path), "message": result.error})
        for result in report.errors
    ]
    return lines
