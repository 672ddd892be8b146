"""The ``ftmigrate`` command line: thin on purpose; the work is in ``runner`` and ``engine``.

Exit codes (as in ruff): 0 clean; 1 findings, a diff, unfixed findings or per-file errors;
2 usage or configuration error, or an internal error.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ftmigrate import __version__
from ftmigrate.config import Config, ConfigError, find_pyproject, load_config
from ftmigrate.runner import APPLY, DIFF, SCAN, RunReport, run
from ftmigrate.selection import RuleSelection

app = typer.Typer(
    name="ftmigrate",
    help="Find and fix code that races on free-threaded CPython (PEP 703).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ftmigrate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Find and fix code that races on free-threaded CPython (PEP 703).

    Exit codes: 0 clean, 1 findings / would change / per-file errors, 2 usage or internal error.
    """


PATHS = typer.Argument(None, help="Files or folders (default: the current folder). Named files are always checked.")
SELECT = typer.Option(None, "--select", help="Rule codes or prefixes to enable, comma-separated or repeated (default: all).")
IGNORE = typer.Option(None, "--ignore", help="Rule codes or prefixes to disable.")
EXCLUDE = typer.Option(None, "--exclude", help="Gitignore-style patterns of paths to skip (added to the config's).")
FORMAT = typer.Option(OutputFormat.text, "--format", help="Report format.")
CONFIG = typer.Option(None, "--config", help="A pyproject.toml (or ftmigrate.toml) to read instead of the nearest one.")
NO_GITIGNORE = typer.Option(False, "--no-gitignore", help="Also check files that .gitignore excludes.")
JOBS = typer.Option(None, "--jobs", min=1, help="Worker processes (default: one per CPU; 1: no pool).")
NO_CACHE = typer.Option(False, "--no-cache", help="Neither read nor write the results cache (.ftmigrate_cache/).")


def _split(values: Optional[List[str]]) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _configure(paths, select, ignore, exclude, config_file, no_gitignore) -> tuple[list[Path], RuleSelection, Config]:
    paths = list(paths or [Path(".")])
    if config_file is None:
        config_file = find_pyproject(paths[0]) or find_pyproject(Path.cwd())
    config = load_config(config_file, fallback_root=Path.cwd())
    if exclude:
        config.exclude += _split(exclude)
    if no_gitignore:
        config.respect_gitignore = False
    # As in ruff, a --select on the command line starts the selection afresh: the config's
    # select and ignore give way to it. Rules are resolved (and unknown codes reported) by
    # the run, which needs them only for files the cache cannot answer.
    if _split(select):
        rules = RuleSelection(tuple(_split(select)), tuple(_split(ignore)))
    else:
        config_select = None if config.select is None else tuple(config.select)
        rules = RuleSelection(config_select, tuple(config.ignore + _split(ignore)))
    return paths, rules, config


def _execute(mode: str, paths, select, ignore, exclude, fmt: OutputFormat, config_file, no_gitignore, jobs, no_cache) -> int:
    from ftmigrate import reporting

    try:
        paths, rules, config = _configure(paths, select, ignore, exclude, config_file, no_gitignore)
        report: RunReport = run(paths, rules, config, mode, jobs=jobs or os.cpu_count() or 1, cache=not no_cache)
    except ConfigError as exc:
        typer.echo(f"ftmigrate: error: {exc}", err=True)
        return 2
    for line in reporting.error_lines(report):
        typer.echo(line, err=True)
    if mode == DIFF:
        reporting.write_diffs(report, sys.stdout.buffer)
        typer.echo(reporting.summary_line(report), err=True)
    elif fmt is OutputFormat.json:
        typer.echo(reporting.as_json(report))
    else:
        for line in reporting.text_lines(report):
            typer.echo(line)
        typer.echo(reporting.summary_line(report))
    return report.exit_code()


def _guarded(mode: str, *args) -> None:
    try:
        code = _execute(mode, *args)
    except Exception as exc:  # anything unexpected is our bug: say so, exit 2
        typer.echo(f"ftmigrate: internal error: {type(exc).__name__}: {exc}", err=True)
        code = 2
    raise typer.Exit(code)


@app.command()
def scan(
    paths: Optional[List[Path]] = PATHS,
    select: Optional[List[str]] = SELECT,
    ignore: Optional[List[str]] = IGNORE,
    exclude: Optional[List[str]] = EXCLUDE,
    format: OutputFormat = FORMAT,
    config: Optional[Path] = CONFIG,
    no_gitignore: bool = NO_GITIGNORE,
    jobs: Optional[int] = JOBS,
    no_cache: bool = NO_CACHE,
) -> None:
    """Report code that races without the GIL. Exit 1 if anything is found."""
    _guarded(SCAN, paths, select, ignore, exclude, format, config, no_gitignore, jobs, no_cache)


@app.command()
def apply(
    paths: Optional[List[Path]] = PATHS,
    diff: bool = typer.Option(False, "--diff", help="Write nothing; print a unified diff (git apply -p1) instead."),
    select: Optional[List[str]] = SELECT,
    ignore: Optional[List[str]] = IGNORE,
    exclude: Optional[List[str]] = EXCLUDE,
    format: OutputFormat = FORMAT,
    config: Optional[Path] = CONFIG,
    no_gitignore: bool = NO_GITIGNORE,
    jobs: Optional[int] = JOBS,
    no_cache: bool = NO_CACHE,
) -> None:
    """Rewrite files in place so shared state is locked. Exit 1 if findings remain unfixed
    (with --diff: if there is a diff)."""
    _guarded(DIFF if diff else APPLY, paths, select, ignore, exclude, format, config, no_gitignore, jobs, no_cache)


def main() -> None:
    app()
