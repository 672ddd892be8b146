"""The ``ftmigrate`` command line: thin on purpose; the work is in ``runner`` and ``engine``.

Exit codes (as in ruff): 0 clean; 1 findings, a diff, unfixed findings or per-file errors;
2 usage or configuration error, or an internal error; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ftmigrate import __version__
from ftmigrate.config import Config, ConfigError, find_pyproject, load_config
from ftmigrate.formats import OutputFormat
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


PATHS = typer.Argument(
    None, help="Files or folders (default: the current folder); `-` reads source from stdin. Named files are always checked, unless --force-exclude."
)
SELECT = typer.Option(None, "--select", help="Rule codes or prefixes to enable, comma-separated or repeated (default: all).")
IGNORE = typer.Option(None, "--ignore", help="Rule codes or prefixes to disable.")
EXCLUDE = typer.Option(
    None, "--exclude", "--extend-exclude", help="Gitignore-style patterns of paths to skip (added to the config's `exclude`)."
)
FORMAT = typer.Option(OutputFormat.text, "--format", help="Report format.")
CONFIG = typer.Option(None, "--config", help="A pyproject.toml (or ftmigrate.toml) to read instead of the nearest one.")
NO_GITIGNORE = typer.Option(False, "--no-gitignore", help="Also check files that .gitignore excludes.")
FORCE_EXCLUDE = typer.Option(
    False, "--force-exclude", help="Apply exclusions to files named on the command line too (for pre-commit)."
)
STDIN_FILENAME = typer.Option(
    None, "--stdin-filename", help="With `-`: the path of the file the stdin source belongs to (for messages and config)."
)
QUIET = typer.Option(False, "--quiet", "-q", help="Print only findings and errors: no summary, no progress.")
VERBOSE = typer.Option(False, "--verbose", "-v", help="Also print the configuration and one line per file on stderr.")
JOBS = typer.Option(None, "--jobs", min=1, help="Worker processes (default: one per CPU; 1: no pool).")
NO_CACHE = typer.Option(False, "--no-cache", help="Neither read nor write the results cache (.ftmigrate_cache/).")
UNSAFE_FIXES = typer.Option(
    None,
    "--unsafe-fixes/--no-unsafe-fixes",
    help="Also apply (scan: show as fixable) fixes that can change behaviour: locks held around calls into other code, "
    "one lock for every instance's state. Overrides the config's unsafe-fixes.",
)


class ConfidenceLevel(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


MIN_CONFIDENCE = typer.Option(
    None, "--min-confidence",
    help="Report (and fix) only findings at least this sure to race: high (threads reach the state), "
    "medium (shared state any thread may change; the default) or low (no evidence of threads).",
)


@dataclass
class RunOptions:
    """Everything `scan` and `apply` were asked to do."""

    mode: str
    paths: Optional[List[Path]]
    select: Optional[List[str]]
    ignore: Optional[List[str]]
    exclude: Optional[List[str]]
    format: OutputFormat
    config: Optional[Path]
    no_gitignore: bool
    force_exclude: bool = False
    stdin_filename: Optional[Path] = None
    quiet: bool = False
    verbose: bool = False
    exit_zero: bool = False
    statistics: bool = False
    jobs: Optional[int] = None
    no_cache: bool = False
    unsafe_fixes: Optional[bool] = None
    min_confidence: Optional[ConfidenceLevel] = None

    @property
    def reads_stdin(self) -> bool:
        return self.paths == [Path("-")] or (not self.paths and self.stdin_filename is not None)


def _split(values: Optional[List[str]]) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _configure(paths, select, ignore, exclude, config_file, no_gitignore, unsafe_fixes=None) -> tuple[list[Path], RuleSelection, Config]:
    paths = list(paths or [Path(".")])
    if config_file is None:
        config_file = find_pyproject(paths[0]) or find_pyproject(Path.cwd())
    config = load_config(config_file, fallback_root=Path.cwd())
    if exclude:
        config.exclude += _split(exclude)
    if no_gitignore:
        config.respect_gitignore = False
    if unsafe_fixes is not None:
        config.unsafe_fixes = unsafe_fixes
    # Rules are resolved (and unknown codes reported) when needed: a run answered from the
    # cache needs none, and saves importing them.
    return paths, RuleSelection.configured(_split(select), _split(ignore), config), config


def _usage_problem(opts: RunOptions) -> Optional[str]:
    if opts.quiet and opts.verbose:
        return "--quiet and --verbose exclude each other"
    if opts.paths and Path("-") in opts.paths and len(opts.paths) > 1:
        return "`-` (stdin) cannot be combined with other paths"
    if opts.stdin_filename is not None and not opts.reads_stdin:
        return "--stdin-filename needs `-` as the only path"
    if opts.statistics and opts.format not in (OutputFormat.text, OutputFormat.json):
        return "--statistics works with --format text or json"
    return None


def _execute(opts: RunOptions) -> int:
    from ftmigrate.output import OutputOptions, emit
    from ftmigrate.progress import Feedback

    problem = _usage_problem(opts)
    if problem:
        typer.echo(f"ftmigrate: error: {problem}", err=True)
        return 2
    where = [opts.stdin_filename] if opts.reads_stdin and opts.stdin_filename else opts.paths
    try:
        paths, selection, config = _configure(
            where, opts.select, opts.ignore, opts.exclude, opts.config, opts.no_gitignore, opts.unsafe_fixes
        )
        if opts.min_confidence is not None:
            config.min_confidence = opts.min_confidence.value
        # Rule objects now only where they are needed before the run: it resolves its own.
        needs_rules = opts.verbose or opts.reads_stdin or opts.format is OutputFormat.sarif
        rules = selection.resolve() if needs_rules else []
    except ConfigError as exc:
        typer.echo(f"ftmigrate: error: {exc}", err=True)
        return 2
    feedback = Feedback(quiet=opts.quiet, verbose=opts.verbose, fixing=opts.mode != SCAN)
    feedback.note(f"config: {config.path or 'none (defaults)'}")
    feedback.note(f"rules: {', '.join(rule.code for rule in rules) or 'none'}")
    output = OutputOptions(
        format=opts.format, quiet=opts.quiet, statistics=opts.statistics, rules=rules, analysis=config.analysis_options()
    )
    if opts.reads_stdin:
        from ftmigrate.stdin import run_stdin, write_source

        raw = sys.stdin.buffer.read()
        report: RunReport = run_stdin(raw, opts.stdin_filename, rules, config, opts.mode)
        if opts.mode == APPLY:
            write_source(report, raw, sys.stdout.buffer)
            output.report_to_stderr = True
    else:
        try:
            report = run(
                paths, selection, config, opts.mode, force_exclude=opts.force_exclude,
                observer=feedback, jobs=opts.jobs or os.cpu_count() or 1, cache=not opts.no_cache,
            )
        except ConfigError as exc:  # an unknown rule code, found when the rules were needed
            typer.echo(f"ftmigrate: error: {exc}", err=True)
            return 2
    emit(report, output)
    code = report.exit_code()
    if opts.exit_zero and code == 1 and not report.errors:
        return 0  # findings only; a file that could not be processed still fails the run
    return code


def _guarded(opts: RunOptions) -> None:
    try:
        code = _execute(opts)
    except KeyboardInterrupt:
        # Writes are atomic and hold back Ctrl-C (sourcefile.write_atomic): no file is
        # half-written, so a rerun finishes the job. Only `apply` writes.
        writes = opts.mode == APPLY and not opts.reads_stdin
        typer.echo("ftmigrate: interrupted" + ("; files are either rewritten or untouched, none half-written" if writes else ""), err=True)
        code = 130
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
    force_exclude: bool = FORCE_EXCLUDE,
    stdin_filename: Optional[Path] = STDIN_FILENAME,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings (files that cannot be processed still exit 1)."),
    statistics: bool = typer.Option(False, "--statistics", help="Print the number of findings per rule instead of the findings."),
    jobs: Optional[int] = JOBS,
    no_cache: bool = NO_CACHE,
    unsafe_fixes: Optional[bool] = UNSAFE_FIXES,
    min_confidence: Optional[ConfidenceLevel] = MIN_CONFIDENCE,
) -> None:
    """Report code that races without the GIL. Exit 1 if anything is found."""
    _guarded(
        RunOptions(
            SCAN, paths, select, ignore, exclude, format, config, no_gitignore,
            force_exclude=force_exclude, stdin_filename=stdin_filename, quiet=quiet, verbose=verbose,
            exit_zero=exit_zero, statistics=statistics, jobs=jobs, no_cache=no_cache, min_confidence=min_confidence,
            unsafe_fixes=unsafe_fixes,
        )
    )


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
    force_exclude: bool = FORCE_EXCLUDE,
    stdin_filename: Optional[Path] = STDIN_FILENAME,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
    jobs: Optional[int] = JOBS,
    no_cache: bool = NO_CACHE,
    unsafe_fixes: Optional[bool] = UNSAFE_FIXES,
    min_confidence: Optional[ConfidenceLevel] = MIN_CONFIDENCE,
) -> None:
    """Rewrite files in place so shared state is locked. Exit 1 if findings remain unfixed
    (with --diff: if there is a diff). With `-`, the fixed source goes to stdout."""
    _guarded(
        RunOptions(
            DIFF if diff else APPLY, paths, select, ignore, exclude, format, config, no_gitignore,
            force_exclude=force_exclude, stdin_filename=stdin_filename, quiet=quiet, verbose=verbose,
            jobs=jobs, no_cache=no_cache, min_confidence=min_confidence, unsafe_fixes=unsafe_fixes,
        )
    )


class RulesFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command("rules")
def rules_command(
    format: RulesFormat = typer.Option(RulesFormat.text, "--format", help="markdown is the README's rule section."),
) -> None:
    """List every rule: code, name, whether `apply` fixes it, summary."""
    from codemods import ALL_RULES
    from ftmigrate import ruledocs

    render = {RulesFormat.text: ruledocs.rules_text, RulesFormat.markdown: ruledocs.rules_markdown, RulesFormat.json: ruledocs.rules_json}
    typer.echo(render[format](ALL_RULES).rstrip("\n"))


@app.command()
def explain(code: str = typer.Argument(..., help="A rule code, e.g. FT001.")) -> None:
    """Show a rule's full documentation with its tested examples."""
    from codemods import RULES_BY_CODE
    from ftmigrate import ruledocs
    from ftmigrate.terminal import is_terminal

    rule = RULES_BY_CODE.get(code.strip().upper())
    if rule is None:
        typer.echo(f"ftmigrate: error: unknown rule {code!r} (known: {', '.join(RULES_BY_CODE)})", err=True)
        raise typer.Exit(2)
    text = ruledocs.explain_markdown(rule)
    if is_terminal(sys.stdout):
        from rich.console import Console
        from rich.markdown import Markdown

        Console(file=sys.stdout, force_terminal=True).print(Markdown(text))
    else:
        typer.echo(text, nl=False)


class Executor(str, Enum):
    local = "local"
    dask = "dask"


@app.command()
def batch(
    repos: Optional[List[str]] = typer.Argument(None, help="Git repositories: local paths (or anything `git clone` accepts)."),
    repos_file: Optional[Path] = typer.Option(None, "--repos-file", help="A file with one repository per line (# comments)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for patches, per-repository results and report.md/json."),
    branch: str = typer.Option("ftmigrate/free-threading", "--branch", help="Name of the branch created in each changed repository."),
    select: Optional[List[str]] = SELECT,
    ignore: Optional[List[str]] = IGNORE,
    exclude: Optional[List[str]] = typer.Option(
        None, "--exclude", "--extend-exclude", help="Gitignore-style patterns of paths to skip in every repository (added to its own `exclude`)."
    ),
    test_cmd: Optional[str] = typer.Option(None, "--test-cmd", help="Shell command run in each migrated worktree; failing fails the repository."),
    test_timeout: float = typer.Option(900.0, "--test-timeout", min=1, help="Seconds before --test-cmd is killed."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Repositories processed at once (local executor; default: CPU count)."),
    executor: Executor = typer.Option(Executor.local, "--executor", help="local: a process pool; dask: one task per repository on an existing Dask cluster (repositories and --output must have the same paths on the workers, e.g. a shared file system)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786."),
    resume: bool = typer.Option(False, "--resume", help="Skip repositories already done for the same HEAD and options."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report and diffs only: no branches, no commits."),
    verify: bool = typer.Option(False, "--verify", help="Run `ftmigrate verify` in each repository: its tests in threads on free-threaded CPython, before vs after the migration."),
    python: Optional[str] = typer.Option(None, "--python", help="With --verify: 3.13t, 3.14t or an interpreter's path (default: the first found)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=2, help="With --verify: threads each test runs in at once (default 8)."),
    iterations: Optional[int] = typer.Option(None, "--iterations", min=1, help="With --verify: times each thread runs each test (default 3)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=1, help="With --verify: seconds a test may run before it counts as hanging (default 120)."),
) -> None:
    """Migrate many repositories: a new branch and a patch per changed repository, one report.

    Exit 0 if every repository is changed, clean or skipped (and verified clean with --verify), 1 if any failed, 2 usage error.
    """
    from ftmigrate.batch.command import UsageError, default_jobs, read_repos_file, run_batch, verify_settings
    from ftmigrate.batch.model import BatchOptions

    try:
        settings = verify_settings(verify, python=python, threads=threads, iterations=iterations, timeout=timeout)
        sources = list(repos or []) + (read_repos_file(repos_file) if repos_file else [])
        options = BatchOptions(
            output=str(output.resolve()), branch=branch, select=tuple(_split(select)), ignore=tuple(_split(ignore)),
            exclude=tuple(_split(exclude)),
            test_cmd=test_cmd, test_timeout=test_timeout, dry_run=dry_run, resume=resume, verify=settings,
        )
        code = run_batch(sources, options, executor=executor.value, jobs=jobs or default_jobs(), scheduler=scheduler, echo=typer.echo)
    except UsageError as exc:
        typer.echo(f"ftmigrate: error: {exc}", err=True)
        code = 2
    except KeyboardInterrupt:
        typer.echo("ftmigrate: interrupted; run again with --resume to continue", err=True)
        code = 130
    except Exception as exc:  # our bug: say so, exit 2
        typer.echo(f"ftmigrate: internal error: {type(exc).__name__}: {exc}", err=True)
        code = 2
    raise typer.Exit(code)


from ftmigrate.threadtests.command import SplitAtDoubleDash  # noqa: E402 - a small class; the work is imported on use


@app.command(cls=SplitAtDoubleDash)
def verify(
    ctx: typer.Context,
    path: Path = typer.Argument(Path("."), help="The project: a folder with its tests (default: the current folder)."),
    python: Optional[str] = typer.Option(None, "--python", help="3.13t, 3.14t or a free-threaded interpreter's path (default: the first found)."),
    threads: int = typer.Option(8, "--threads", min=2, help="Threads each test runs in at once (pytest-run-parallel)."),
    iterations: int = typer.Option(3, "--iterations", min=1, help="Times each thread runs each test."),
    rounds: int = typer.Option(3, "--rounds", min=1, help="Threaded runs of a test that fails in threads (tells flaky from failing)."),
    timeout: float = typer.Option(120.0, "--timeout", min=1, help="Seconds a test may run before it counts as hanging."),
    compare_ref: Optional[str] = typer.Option(None, "--compare-ref", help="Compare with this git ref instead of `apply` on a temporary copy."),
    no_compare: bool = typer.Option(False, "--no-compare", help="Run the working tree only."),
    format: str = typer.Option("text", "--format", help="text, json or markdown."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="The compared `apply` also writes unsafe fixes."),
    quiet: bool = QUIET,
) -> None:
    """Run the project's tests on free-threaded CPython, alone and in many threads at once,
    before and after `apply`; check which dependencies re-enable the GIL. `-- ARGS` go to pytest.

    Exit 0 if no test fails only in threads and the GIL stays off, 1 otherwise, 2 usage or environment error.
    """
    from ftmigrate.threadtests.command import VerifyOptions, run_command

    opts = VerifyOptions(
        path=path, python=python, threads=threads, iterations=iterations, rounds=rounds, timeout=timeout,
        compare_ref=compare_ref, compare=not no_compare, format=format, pytest_args=ctx.meta.get("pytest_args", []),
        unsafe_fixes=unsafe_fixes,
    )
    raise typer.Exit(run_command(opts, quiet=quiet))


def main() -> None:
    app()
