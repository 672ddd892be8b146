"""Each test's verdict from its single-threaded run and its threaded rounds.

A test that fails in threads is run again (only the failing ones, ``rounds`` times in all):
failing every round is "fails only in threads", failing some is "flaky in threads". A test
that already fails alone says nothing about threads and is kept apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftmigrate.threadtests.testrun import Outcome, PytestRun

PASSES = "passes"
THREAD_ONLY = "fails only in threads"
FLAKY = "flaky in threads"
CRASHES = "crashes in threads"
HANGS = "hangs in threads"
FAILS_ALONE = "fails without threads"
SKIPPED = "skipped"
NOT_RUN = "not run"  # collected in one run only (e.g. deselected by a crash restart)
THREAD_PROBLEMS = (THREAD_ONLY, FLAKY, CRASHES, HANGS)
ORDER = (CRASHES, HANGS, THREAD_ONLY, FLAKY, FAILS_ALONE, SKIPPED, NOT_RUN, PASSES)
BAD = ("failed", "error", "crash", "hang")  # statuses of a test run that did not pass


@dataclass
class TestVerdict:
    nodeid: str
    verdict: str
    single: str | None  # the single-threaded outcome's status
    rounds: list[str]  # the threaded outcomes' statuses, first round first
    parallel: bool  # False: pytest-run-parallel ran it in one thread
    unsafe_reason: str | None = None
    failure: Outcome | None = None  # the first threaded failure (message, traceback, locations)
    findings: list[dict] = field(default_factory=list)  # ftmigrate findings in the files of its traceback


def verdict(single: Outcome | None, rounds: list[Outcome]) -> str:
    if single is None or not rounds:
        return NOT_RUN
    if single.status in BAD:
        return FAILS_ALONE
    statuses = [o.status for o in rounds]
    if "crash" in statuses:
        return CRASHES
    if "hang" in statuses:
        return HANGS
    failed = sum(s in BAD for s in statuses)
    if failed == 0:
        return SKIPPED if single.status == "skipped" and all(s == "skipped" for s in statuses) else PASSES
    return THREAD_ONLY if failed == len(statuses) else FLAKY


def reruns_needed(single: PytestRun, threaded: PytestRun) -> list[str]:
    """Tests worth running again in threads: passed alone, failed (not crashed or hung) in threads."""
    return [
        nodeid for nodeid, outcome in threaded.outcomes.items()
        if outcome.status in ("failed", "error") and nodeid in single.outcomes and single.outcomes[nodeid].status not in BAD
    ]


def verdicts(single: PytestRun, threaded: list[PytestRun]) -> list[TestVerdict]:
    """One verdict per test seen in either run, worst first, then in run order."""
    nodeids = list(dict.fromkeys([*single.outcomes, *threaded[0].outcomes])) if threaded else list(single.outcomes)
    unsafe = {k: v for run in threaded for k, v in run.thread_unsafe.items()}
    found = []
    for nodeid in nodeids:
        rounds = [run.outcomes[nodeid] for run in threaded if nodeid in run.outcomes]
        result = TestVerdict(
            nodeid=nodeid, verdict=verdict(single.outcomes.get(nodeid), rounds),
            single=single.outcomes[nodeid].status if nodeid in single.outcomes else None,
            rounds=[o.status for o in rounds], parallel=nodeid not in unsafe, unsafe_reason=unsafe.get(nodeid),
        )
        result.failure = next((o for o in rounds if o.status in BAD), None)
        found.append(result)
    found.sort(key=lambda v: ORDER.index(v.verdict))
    return found
