"""Writing a finished run in the format and mode asked for.

Findings, diffs and machine formats go to stdout; per-file errors and the ``--diff``
summary to stderr. With ``apply -`` stdout carries the fixed source, so the report goes to
stderr. ``--quiet`` leaves only findings and errors (no summary, no "fixed" lines).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import typer

from ftmigrate import reporting
from ftmigrate.results import FileResult
from ftmigrate.formats import MACHINE_FORMATS, OutputFormat
from ftmigrate.formats import github, jsonlines, statistics
from ftmigrate.runner import DIFF, SCAN, RunReport, display_path
from ftmigrate.terminal import wants_color

if TYPE_CHECKING:  # the rules (and sarif, which needs them) import LibCST: not for every run
    from ftmigrate.formats import sarif
    from ftmigrate.rules import Rule


@dataclass
class OutputOptions:
    format: OutputFormat = OutputFormat.text
    quiet: bool = False
    statistics: bool = False
    report_to_stderr: bool = False  # `apply -`: stdout is the fixed source
    rules: Sequence[Rule] = ()  # the selected rules (to preview fixes for SARIF)
    analysis: dict = field(default_factory=dict)  # Config.analysis_options() of the run


def _preview(report: RunReport, options: OutputOptions) -> "sarif.Preview":
    """What SARIF fixes are computed from: the run's own rewrite with --diff; for scan, a
    rewrite made now (never written); none after apply, which already wrote it."""

    def preview(result: FileResult) -> FileResult | None:
        if report.mode == DIFF:
            return result
        if report.mode == SCAN and result.checked and result.error is None:
            from ftmigrate.engine import check_loaded
            from ftmigrate.sourcefile import SourceError, read_source

            try:  # a scan's results (worker's or cache's) come without the file's text
                source = result.source or read_source(result.path)
            except SourceError:
                return None
            display = result.findings[0].path if result.findings else display_path(result.path)
            return check_loaded(source, options.rules, fix=True, display=display, **options.analysis)
        return None

    return preview


def machine_lines(report: RunReport, options: OutputOptions) -> list[str]:
    if options.format is OutputFormat.sarif:
        from codemods import ALL_RULES
        from ftmigrate.formats import sarif

        return [sarif.render(report, ALL_RULES, _preview(report, options))]
    if options.format is OutputFormat.github:
        return github.annotations(report)
    return jsonlines.json_lines(report)


def statistics_lines(report: RunReport, options: OutputOptions) -> list[str]:
    from codemods import ALL_RULES

    rows = statistics.rule_counts(report, {rule.code: rule.name for rule in ALL_RULES})
    if options.format is OutputFormat.json:
        return [statistics.statistics_json(rows)]
    lines = statistics.statistics_lines(rows)
    return lines if options.quiet else lines + [reporting.summary_line(report)]


def human_lines(report: RunReport, options: OutputOptions) -> list[str]:
    if options.format is OutputFormat.json:
        return [reporting.as_json(report)]
    lines = reporting.text_lines(report, fixed_files=not options.quiet)
    return lines if options.quiet else lines + [reporting.summary_line(report)]


def emit(report: RunReport, options: OutputOptions) -> None:
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for line in reporting.error_lines(report):
        typer.echo(line, err=True)
    to_stderr = options.report_to_stderr
    if options.format in MACHINE_FORMATS:
        lines = machine_lines(report, options)
    elif report.mode == DIFF:
        reporting.write_diffs(report, sys.stdout.buffer, color=wants_color(sys.stdout))
        lines = []
        if not options.quiet:
            typer.echo(reporting.summary_line(report), err=True)
    elif options.statistics:
        lines = statistics_lines(report, options)
    else:
        lines = human_lines(report, options)
    for line in lines:
        typer.echo(line, err=to_stderr)
