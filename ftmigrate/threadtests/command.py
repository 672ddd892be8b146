"""`ftmigrate verify`: find the interpreter, build the venv, check the GIL, run the trees, report.

Exit codes: 0 no thread-only failures and the GIL stays off; 1 a test fails, flakes, crashes
or hangs only in threads in the working tree, a dependency re-enables the GIL, pytest could
not run, or the compared change broke a test; 2 usage or environment error.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import typer
import typer.core

from ftmigrate.threadtests import VerifyError
from ftmigrate.threadtests.xdist import refuse_in_user_args

FORMATS = ("text", "json", "markdown")


class SplitAtDoubleDash(typer.core.TyperCommand):
    """Everything after ``--`` goes to pytest untouched (``ctx.meta["pytest_args"]``), before
    click can mistake its first word for PATH."""

    def parse_args(self, ctx, args):
        if "--" in args:
            at = args.index("--")
            args, ctx.meta["pytest_args"] = args[:at], args[at + 1:]
        else:
            ctx.meta["pytest_args"] = []
        return super().parse_args(ctx, args)


@dataclass
class VerifyOptions:
    path: Path
    python: Optional[str] = None  # "3.13t", "3.14t", an executable, or None for any
    threads: int = 8
    iterations: int = 3
    rounds: int = 3
    timeout: float = 120.0
    compare_ref: Optional[str] = None
    compare: bool = True
    format: str = "text"
    pytest_args: list[str] = field(default_factory=list)
    unsafe_fixes: bool = False  # the compared `apply` also writes unsafe fixes
    label: str = "working tree"  # what PATH is called in the report
    check: Optional[Callable[[], None]] = None  # called while tests run; raises to stop verify (batch)


def find_python(want: Optional[str]):
    """The interpreter ``--python`` asks for; raises VerifyError with the how-to message."""
    from ftmigrate.freethreaded import FreeThreadedPython, NoFreeThreadedPython, find_free_threaded_python, how_to_get_one, probe

    if want and want.removesuffix("t") in ("3.13", "3.14"):
        want = want.removesuffix("t")
    elif want:  # an executable
        found = probe(want)
        if found is None:
            raise VerifyError(f"{want} is not a free-threaded CPython (or does not run).\n" + how_to_get_one())
        return FreeThreadedPython(found.executable, found.version, "--python")
    try:
        return find_free_threaded_python(want)
    except NoFreeThreadedPython as exc:
        raise VerifyError(str(exc)) from None


def _usage(opts: VerifyOptions) -> None:
    if not opts.path.is_dir():
        raise VerifyError(f"{opts.path} is not a folder (verify needs a project with its tests)")
    if opts.format not in FORMATS:
        raise VerifyError(f"unknown --format {opts.format!r} (one of {', '.join(FORMATS)})")
    if opts.compare_ref and not opts.compare:
        raise VerifyError("--compare-ref and --no-compare exclude each other")
    refuse_in_user_args(opts.pytest_args)


def run_command(opts: VerifyOptions, quiet: bool = False) -> int:
    """The CLI's entry: the report on stdout, errors on stderr; the exit code."""
    try:
        return verify(opts, typer.echo, quiet=quiet)
    except VerifyError as exc:
        typer.echo(f"ftmigrate: error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("ftmigrate: interrupted; the temporary copies are removed, your tree was not touched", err=True)
        return 130
    except Exception as exc:  # our bug: say so, exit 2
        typer.echo(f"ftmigrate: internal error: {type(exc).__name__}: {exc}", err=True)
        return 2


def verify(opts: VerifyOptions, echo: Callable[[str], None], quiet: bool = False) -> int:
    """Run verify and print its report with ``echo``; the exit code. Raises VerifyError (exit 2)."""
    from ftmigrate.threadtests.progress import VerifyProgress
    from ftmigrate.threadtests.report import render_markdown, render_text

    data = run_verify(opts, VerifyProgress(quiet=quiet))
    render = {"json": lambda d: json.dumps(d, indent=2) + "\n", "text": render_text, "markdown": render_markdown}
    echo(render[opts.format](data).rstrip("\n"))
    return data["exit_code"]


def run_verify(opts: VerifyOptions, progress) -> dict:
    """The report (``--format json``'s dict) of a verify run; ``progress`` (a ``VerifyProgress``)
    hears what happens and is stopped at the end. Raises VerifyError (exit 2)."""
    from ftmigrate.threadtests import env as venv
    from ftmigrate.threadtests.compare import Settings, compare, recheck_broken, run_tree
    from ftmigrate.threadtests.gilcheck import check_distributions
    from ftmigrate.threadtests.report import build
    from ftmigrate.threadtests.trees import applied_copy, ref_tree

    _usage(opts)
    project = opts.path.resolve()
    python = find_python(opts.python)
    settings = Settings(opts.threads, opts.iterations, opts.rounds, opts.timeout, list(opts.pytest_args))
    if opts.check is not None:
        settings.check = opts.check
    with ExitStack() as stack:
        stack.callback(progress.stop)
        progress.say(f"{python.executable} (CPython {python.version}, found by {python.source})")
        env = stack.enter_context(venv.using(project, python, progress.say))
        progress.say("GIL check: importing every installed distribution")
        gil = check_distributions(env, venv.inventory(env))

        def run(tree: Path, label: str, watch=()):
            return run_tree(env, tree, label, settings, progress.say, progress.test_done, watch=[v.nodeid for v in watch])

        comparison = None
        if opts.compare_ref:
            progress.say(f"checking out {opts.compare_ref}")
            before = run(stack.enter_context(ref_tree(project, opts.compare_ref)), f"ref {opts.compare_ref}")
            working = run(project, opts.label, before.thread_problems)
            trees, comparison = [working, before], compare(before, working)
            comparison = recheck_broken(env, before, working, comparison, settings, progress.say, progress.test_done)
        else:
            working = run(project, opts.label)
            trees = [working]
            if opts.compare:
                progress.say("running `ftmigrate apply` on a temporary copy")
                copy, summary = stack.enter_context(applied_copy(project, opts.unsafe_fixes))
                after = run(copy, "after apply", working.thread_problems)
                after.apply = summary
                trees.append(after)
                comparison = recheck_broken(env, working, after, compare(working, after), settings, progress.say, progress.test_done)
        venv.install_tree(env, project)  # leave the venv as the next run expects it
    failed = bool(working.thread_problems or not gil.stays_off or working.problems or (comparison and comparison["broken"]))
    return build(project=project, python=python, settings=settings, gil=gil, trees=trees, comparison=comparison,
                 exit_code=1 if failed else 0)
