"""DIR/report.json and DIR/report.md: one row per repository."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from ftmigrate import __version__
from ftmigrate.batch.model import CHANGED, CLEAN, FAILED, NOT_STARTED, ROLLED_BACK, SKIPPED, BatchOptions, RepoResult, is_url
from ftmigrate.batch.stop import signal_name
from ftmigrate.batch.store import write_atomic
from ftmigrate.threadtests.xdist import TURN_OFF
from ftmigrate.reporting import plural

STATUSES = (CHANGED, CLEAN, FAILED, SKIPPED, ROLLED_BACK, NOT_STARTED)
_MAX_CELL = 200
VERIFY_ERROR_LINES = 25


def counts(results: Sequence[RepoResult]) -> dict[str, int]:
    found = Counter(r.status for r in results)
    return {status: found[status] for status in STATUSES}


def exit_code(results: Sequence[RepoResult]) -> int:
    """1 if a repository failed, or ``--verify`` did not come out clean for it (a thread-only
    failure, flaky test, crash or hang, the GIL turned back on, or verify could not run)."""
    return 1 if any(r.status == FAILED or (r.verify is not None and r.verify.exit_code != 0) for r in results) else 0


def tests_column(result: RepoResult) -> str:
    if result.test is None:
        return "-"
    if result.test.timed_out:
        return "timed out"
    return "passed" if result.test.passed else f"failed (exit {result.test.exit_code})"


def as_dict(results: Sequence[RepoResult], options: BatchOptions, executor: str, seconds: float, stopped_by: int | None = None) -> dict:
    return {
        "ftmigrate": __version__,
        # A stopped batch's report lists what was done; rolled back and not started rows are
        # there so a reader sees the whole batch (`--resume` redoes them: they are not stored).
        "partial": stopped_by is not None,
        "stopped_by": signal_name(stopped_by) if stopped_by is not None else None,
        "options": {
            "branch": options.branch,
            "select": list(options.select),
            "ignore": list(options.ignore),
            "exclude": list(options.exclude),
            "test_cmd": options.test_cmd,
            "test_timeout": options.test_timeout,
            "dry_run": options.dry_run,
            "resume": options.resume,
            "verify": asdict(options.verify) if options.verify else None,
        },
        "executor": executor,
        "seconds": round(seconds, 3),
        "summary": counts(results),
        "repositories": [r.to_dict() for r in results],
    }


def _cell(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > _MAX_CELL:
        text = text[: _MAX_CELL - 3] + "..."
    return text.replace("|", "\\|")


def as_markdown(results: Sequence[RepoResult], options: BatchOptions, executor: str, seconds: float, stopped_by: int | None = None) -> str:
    summary = ", ".join(f"{n} {status}" for status, n in counts(results).items() if n) or "no repositories"
    lines = ["# ftmigrate batch report" + (" (partial)" if stopped_by is not None else ""), ""]
    if stopped_by is not None:
        lines += [
            (
                f"**Partial: stopped by {signal_name(stopped_by)}.** Repositories marked *rolled back* were being "
                "migrated and were undone (no branch, patch or worktree left); *not started* ones were never begun. "
                "Run the same command with `--resume` to finish."
            ),
            "",
        ]
    lines += [
        f"ftmigrate {__version__}, {plural(len(results), 'repository', 'repositories')}: {summary}. Executor: {executor}, {seconds:.1f} s.",
        "",
        f"Branch: `{options.branch}`" + (f"; tests: `{_cell(options.test_cmd)}`" if options.test_cmd else "; no test command"),
    ]
    if options.dry_run:
        lines += ["", "Dry run: no branches or commits; DIR/<name>.diff holds each change."]
    lines += [
        "",
        "| Repository | Status | Files changed | Findings | Fixed | Not auto-fixable | Tests | Branch | Commit | Error |",
        "| --- | --- | ---: | --- | ---: | ---: | --- | --- | --- | --- |",
    ]
    for r in results:
        findings = ", ".join(f"{code}: {n}" for code, n in r.findings.items()) or "-"
        status = r.status + (" (resumed)" if r.resumed else "")
        row = [
            r.name, status, str(len(r.files_changed)), findings, str(r.fixed), str(r.not_fixable),
            tests_column(r), f"`{r.branch}`" if r.branch else "-", f"`{r.commit[:12]}`" if r.commit else "-", r.error or "",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    if options.verify is not None:
        lines += verify_section(results, options)
    details = [r for r in results if r.notes or r.unfixable or (r.test is not None and not r.test.passed) or _in_clone(r) or _xdist(r)
               or (r.verify is not None and r.verify.error)]
    if details:
        lines += ["", "## Details"]
    for r in details:
        lines += ["", f"### {r.name}", "", f"Source: `{r.source}`"]
        if _in_clone(r):
            lines.append(
                f"- the branch `{r.branch}` is in the bare clone `{r.repository}` made from that URL "
                f"(push it from there: `git -C {r.repository} push origin {r.branch}`)"
            )
        lines += [f"- {note}" for note in r.notes]
        if _xdist(r):
            lines.append(f"- verify turned pytest-xdist off ({' '.join(TURN_OFF)}) over the repository's pytest config: `{' '.join(_xdist(r))}`")
        lines += [f"- not auto-fixable: `{u['path']}:{u['line']}` {u['rule']} {u['message']} ({u['reason']})" for u in r.unfixable]
        if r.test is not None and not r.test.passed:
            tail = r.test.output_tail.replace("```", "'''") or "(no output)"
            lines += ["", "Tail of the test command's output:", "", "```", tail, "```"]
        if r.verify is not None and r.verify.error:
            tail = "\n".join(r.verify.error.replace("```", "'''").splitlines()[-VERIFY_ERROR_LINES:])
            lines += ["", "Verify error (its last lines):", "", "```", tail, "```"]
    return "\n".join(lines) + "\n"


VERIFY_HEADER = (
    "| Repository | GIL | Passes | Fail only in threads | Flaky | Crashes | Hangs | Fixed by the change | Broken by the change | Verify error |"
)


def verify_row(r: RepoResult) -> list[str]:
    """The ``--verify`` table's cells for one repository (``-`` where verify did not run or did not compare)."""
    v = r.verify
    if v is None:
        return [r.name] + ["-"] * 9
    if v.gil_stays_off is None:
        gil = "-"
    else:
        gil = "stays off" if v.gil_stays_off else f"re-enabled by {', '.join(v.gil_reenabled_by)}"
    counted = v.gil_stays_off is not None
    counts = [str(n) if counted else "-" for n in (v.passes, v.fails_only_in_threads, v.flaky, v.crashes, v.hangs)]
    compared = [str(len(v.fixed)), str(len(v.broken))] if counted and v.compared_with else ["-", "-"]
    return [r.name, gil, *counts, *compared, v.error.splitlines()[0] if v.error else ""]


def verify_section(results: Sequence[RepoResult], options: BatchOptions) -> list[str]:
    s = options.verify
    lines = [
        "",
        "## Free-threaded tests (`--verify`)",
        "",
        (
            f"`ftmigrate verify` with `{s.python}`: each test alone, then in {s.threads} threads x {s.iterations} "
            f"iterations (a test still running after {s.timeout:g} s hangs); the migrated tree, compared with HEAD "
            "when the migration changed it. Counts are the migrated tree's; DIR/<name>.verify.md has each report."
        ),
        "",
        VERIFY_HEADER,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    return lines + ["| " + " | ".join(_cell(c) for c in verify_row(r)) + " |" for r in results]


def _xdist(result: RepoResult) -> list[str]:
    return result.verify.xdist_turned_off if result.verify is not None else []


def _in_clone(result: RepoResult) -> bool:
    return is_url(result.source) and result.branch is not None and result.repository is not None


def write_reports(
    output: Path, results: Sequence[RepoResult], options: BatchOptions, executor: str, seconds: float, stopped_by: int | None = None
) -> None:
    data = json.dumps(as_dict(results, options, executor, seconds, stopped_by), indent=2) + "\n"
    write_atomic(output / "report.json", data.encode("utf-8"))
    write_atomic(output / "report.md", as_markdown(results, options, executor, seconds, stopped_by).encode("utf-8"))
