"""``batch --verify``: ``ftmigrate verify`` in each repository's worktree, summed up for the report.

A changed repository is verified as ``verify --compare-ref HEAD`` would do it from the
migrated worktree: the original commit and the migrated tree, each alone and in threads,
and which thread failures the change removed and which tests it broke. A change that broke
a test fails the repository like a failing ``--test-cmd`` (no branch; the patch is kept for
review). A clean repository is verified as it is (nothing to compare). Verify's whole report
goes to DIR/<name>.verify.json and .verify.md. An error of verify (pip failed, pytest could
not run) is this repository's verify error; the batch goes on. A stop of the batch reaches
verify through ``check``: its pytest process group is killed and the repository rolled back.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from ftmigrate.batch import store
from ftmigrate.batch.model import RepoResult, RepoTask, VerifySettings, VerifySummary
from ftmigrate.batch.workspace import RepoError
from ftmigrate.threadtests import VerifyError
from ftmigrate.threadtests.outcomes import CRASHES, FLAKY, HANGS, PASSES, THREAD_ONLY

AFTER_LABEL = "after ftmigrate"
UNCHANGED_LABEL = "HEAD (unchanged)"
MAX_LISTED = 3


def resolve_python(want: str | None) -> str:
    """The free-threaded interpreter every repository will use (``--python`` as verify takes
    it); VerifyError, with verify's how-to-get-one message, when there is none."""
    from ftmigrate.threadtests.command import find_python

    return find_python(want).executable


def verify_step(result: RepoResult, task: RepoTask, worktree: Path, head: str | None, check: Callable[[], None]) -> None:
    """Verify the worktree (``head``: the commit to compare with, None for an unchanged
    repository) into ``result.verify``; RepoError if the change broke a test."""
    settings = task.options.verify
    if settings is None:
        return
    check()
    result.verify = verify_worktree(worktree, head, settings, Path(task.options.output), task.name, check)
    broken = result.verify.broken
    if broken:
        listed = ", ".join(broken[:MAX_LISTED]) + (f" (and {len(broken) - MAX_LISTED} more)" if len(broken) > MAX_LISTED else "")
        kept = "the diff is kept" if task.options.dry_run else "no branch created (the patch is kept for review)"
        raise RepoError(f"verify: the change broke {len(broken)} test(s) that pass at HEAD: {listed}; {kept}")


def verify_worktree(
    worktree: Path, head: str | None, settings: VerifySettings, output: Path, name: str, check: Callable[[], None]
) -> VerifySummary:
    from ftmigrate.threadtests.command import VerifyOptions, run_verify
    from ftmigrate.threadtests.progress import VerifyProgress
    from ftmigrate.threadtests.report import render_markdown

    opts = VerifyOptions(
        path=worktree, python=settings.python, threads=settings.threads, iterations=settings.iterations,
        timeout=settings.timeout, compare_ref=head, compare=head is not None, format="json",
        label=AFTER_LABEL if head is not None else UNCHANGED_LABEL, check=check,
    )
    class Checked(VerifyProgress):
        def say(self, line: str) -> None:  # between verify's steps (pip, GIL check, each run)
            check()
            super().say(line)

    started = time.monotonic()
    try:
        data = run_verify(opts, Checked(quiet=True))
    except VerifyError as exc:
        return VerifySummary(error=str(exc), seconds=round(time.monotonic() - started, 3))
    except Exception as exc:  # a bug of ours, or something odd about this repository: this repository only
        return VerifySummary(error=f"internal error: {type(exc).__name__}: {exc}", seconds=round(time.monotonic() - started, 3))
    summary = summarize(data)
    summary.compared_with = head
    summary.seconds = round(time.monotonic() - started, 3)
    summary.report = store.save_artifact(output, name, ".verify.json", (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    store.save_artifact(output, name, ".verify.md", render_markdown(data).encode("utf-8"))
    return summary


def summarize(data: dict) -> VerifySummary:
    """The report's columns from verify's json report: counts of the verified (migrated) tree."""
    tree = data["trees"][0]
    counts = tree["counts"]
    comparison = data["comparison"] or {}
    problems = [p for t in data["trees"] for p in t["problems"]]
    return VerifySummary(
        gil_stays_off=data["gil"]["stays_off"],
        gil_reenabled_by=list(data["gil"]["reenabled_by"]),
        passes=counts.get(PASSES, 0),
        fails_only_in_threads=counts.get(THREAD_ONLY, 0),
        flaky=counts.get(FLAKY, 0),
        crashes=counts.get(CRASHES, 0),
        hangs=counts.get(HANGS, 0),
        fixed=list(comparison.get("fixed", [])),
        broken=list(comparison.get("broken", [])),
        xdist_turned_off=list(tree.get("xdist_turned_off", [])),
        error=f"pytest could not run: {problems[0].strip()}" if problems else None,
        exit_code=data["exit_code"],
    )

