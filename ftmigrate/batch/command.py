"""``ftmigrate batch``: check the options, run every repository, write the report.

Exit codes: 0 every repository is changed, clean or skipped (and, with ``--verify``, verified
clean); 1 at least one failed (or did not verify clean);
2 usage error (no repositories, unknown rule, bad branch name, no Dask) or internal error;
130 / 143 stopped by SIGINT / SIGTERM (see ``ftmigrate.batch.stop``).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from ftmigrate.batch import report, stop, store
from ftmigrate.batch.executors import ExecutorError, connect_dask, run_dask, run_local
from ftmigrate.batch.model import (
    NOT_STARTED,
    ROLLED_BACK,
    BatchOptions,
    RepoResult,
    RepoTask,
    VerifySettings,
    is_url,
    make_tasks,
)
from ftmigrate.batch.progress import make_progress
from ftmigrate.batch.stop import StopSwitch
from ftmigrate.batch.worker import preflight
from ftmigrate.batch.workspace import OutputInsideRepository
from ftmigrate.config import ConfigError
from ftmigrate.reporting import plural

LOCAL, DASK = "local", "dask"


_COMMENT = re.compile(r"(^|\s)#.*$")  # a whole-line comment, or one after blanks (a `#` inside a path stays)


class UsageError(Exception):
    """Bad options: nothing was run (exit 2)."""


def read_repos_file(path: Path) -> list[str]:
    """One repository per line; blank lines and ``#`` comments are ignored; a relative path is
    relative to the file's folder, so the file means the same from wherever it is used."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --repos-file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    lines = [_COMMENT.sub("", line).strip() for line in text.splitlines()]
    repos = [line for line in lines if line]
    return [r if is_url(r) else os.path.join(path.parent, os.path.expanduser(r)) for r in repos]


def check_branch_name(branch: str) -> None:
    try:
        proc = subprocess.run(["git", "check-ref-format", "--branch", branch], capture_output=True)
    except FileNotFoundError:
        raise UsageError("git is not installed (or not on PATH)") from None
    if proc.returncode != 0 or branch.startswith("-"):
        raise UsageError(f"--branch {branch!r} is not a valid branch name")


def check_options(options: BatchOptions, executor: str, scheduler: str | None, output: Path) -> None:
    from codemods import select_rules

    try:
        select_rules(list(options.select) or None, list(options.ignore))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    check_branch_name(options.branch)
    if executor == DASK and not scheduler:
        raise UsageError("--executor dask needs --scheduler tcp://HOST:PORT")
    if executor == LOCAL and scheduler:
        raise UsageError("--scheduler is only used with --executor dask")
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} exists and is not a folder")


def verify_settings(verify: bool, **given) -> VerifySettings | None:
    """``--verify`` and its options (``python``, ``threads``, ``iterations``, ``timeout``;
    None: not given); those options without ``--verify`` are a usage error."""
    named = [f"--{name}" for name, value in given.items() if value is not None]
    if not verify:
        if named:
            raise UsageError(f"{', '.join(named)} only apply with --verify")
        return None
    chosen = {name: value for name, value in given.items() if value is not None and name != "python"}
    return VerifySettings(python=given.get("python") or "", **chosen)


def with_verify_python(options: BatchOptions) -> BatchOptions:
    """``--verify``: the free-threaded interpreter is found before any repository is touched;
    none is a usage error with verify's own message on how to get one."""
    if options.verify is None:
        return options
    from ftmigrate.batch.verifyrun import resolve_python
    from ftmigrate.threadtests import VerifyError

    try:
        python = resolve_python(options.verify.python or None)
    except VerifyError as exc:
        raise UsageError(f"--verify: {exc}") from None
    return replace(options, verify=replace(options.verify, python=python))


def run_batch(
    repos: Sequence[str],
    options: BatchOptions,
    *,
    executor: str = LOCAL,
    jobs: int = 1,
    scheduler: str | None = None,
    echo=print,
) -> int:
    output = Path(options.output)
    check_options(options, executor, scheduler, output)
    options = with_verify_python(options)
    tasks, repeated = make_tasks(repos, options)
    if not tasks:
        raise UsageError("no repositories given (name them, or use --repos-file)")
    for source in repeated:
        echo(f"ftmigrate: warning: {source} is listed more than once; it is processed once")
    failed = _preflight(tasks, executor)  # before anything is created
    try:
        client = connect_dask(scheduler) if executor == DASK else None
    except ExecutorError as exc:
        raise UsageError(str(exc)) from None
    started = time.monotonic()
    with StopSwitch().installed() as switch:
        output.mkdir(parents=True, exist_ok=True)
        stop.clear_stop(output)  # left by an earlier batch that was stopped
        at_once = jobs if client is None else sum(client.nthreads().values())  # Dask: one task per worker thread
        with make_progress([task.name for task in tasks], at_once) as progress:
            for result in failed.values():
                store.save_result(output, result)
                progress(result)
            todo = [task for task in tasks if task.name not in failed]
            if client is not None:
                done = run_dask(client, todo, progress, switch)  # closes the client
            else:
                done = run_local(todo, jobs, progress, switch) if todo else []
    stop.clear_stop(output)
    by_name = {**failed, **{r.name: r for r in done}}
    results = [by_name[task.name] for task in tasks]
    seconds = time.monotonic() - started
    try:
        (output / "worktrees").rmdir()  # each worktree is removed after use; the folder too once empty
    except OSError:
        pass
    report.write_reports(output, results, options, executor, seconds, stopped_by=switch.signum)
    summary = ", ".join(f"{n} {status}" for status, n in report.counts(results).items() if n)
    echo(f"{plural(len(results), 'repository', 'repositories')}: {summary} ({seconds:.1f} s). Report: {output / 'report.md'}")
    if switch.signum is not None:
        echo(stopped_summary(results, switch.signum))
        return stop.exit_code(switch.signum)
    return report.exit_code(results)


def _preflight(tasks: Sequence[RepoTask], executor: str) -> dict[str, RepoResult]:
    """Repositories that fail before any work (unreadable, not a repository, branch taken);
    UsageError if the output folder is inside one. With Dask, paths this machine does not
    see are left to the workers."""
    failed = {}
    for task in tasks:
        if executor == DASK and not os.path.exists(task.source):
            continue
        try:
            result = preflight(task)
        except OutputInsideRepository as exc:
            raise UsageError(f"{task.source}: {exc}") from None
        if result is not None:
            failed[task.name] = result
    return failed


def stopped_summary(results: Sequence[RepoResult], signum: int) -> str:
    """Which repositories a stopped batch completed, rolled back and never started."""
    groups = {"completed": [], ROLLED_BACK: [], NOT_STARTED: []}
    for result in results:
        groups[result.status if result.status in groups else "completed"].append(result.name)
    listed = "; ".join(f"{what}: {', '.join(names) or 'none'}" for what, names in groups.items())
    return f"ftmigrate: stopped by {stop.signal_name(signum)}. {listed}. The report is partial; run again with --resume to finish."


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
