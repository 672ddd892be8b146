"""``--format github``: GitHub Actions workflow commands, shown as annotations on the diff.

``::warning file=pkg/a.py,line=6,col=5,endLine=6,endColumn=17,title=FT001::message [confidence: high]`` per
finding (after ``apply``, only the findings that were not fixed), ``::error`` per file that
could not be processed. Values are escaped as the Actions toolkit does.
"""

from __future__ import annotations

from ftmigrate.runner import APPLY, RunReport, display_path


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, **properties: object) -> str:
    props = ",".join(f"{key}={_property(str(value))}" for key, value in properties.items())
    return f"::{kind} {props}::{_data(message)}"


def annotations(report: RunReport) -> list[str]:
    lines = [
        _command(
            "warning",
            finding.message + (f" [confidence: {finding.confidence}]" if finding.confidence else ""),
            file=finding.path,
            line=finding.line,
            col=finding.column,
            endLine=finding.end_line,
            endColumn=finding.end_column,
            title=finding.rule,
        )
        for finding in report.findings
        if not (report.mode == APPLY and finding.fixed)
    ]
    lines += [
        _command("error", result.error, file=display_path(result.path), title="ftmigrate")
        for result in report.errors
    ]
    return lines
