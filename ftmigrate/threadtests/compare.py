"""Run the tests of one tree (single-threaded, then threaded rounds), and compare two trees."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ftmigrate.threadtests.env import ProjectEnv, install_tree
from ftmigrate.threadtests.evidence import attach_findings
from ftmigrate.threadtests.outcomes import BAD, FLAKY, PASSES, SKIPPED, THREAD_PROBLEMS, TestVerdict, reruns_needed, verdicts
from ftmigrate.threadtests.testrun import Outcome, run_pytest
from ftmigrate.threadtests.xdist import TURN_OFF, xdist_options


def _no_check() -> None:
    pass


@dataclass
class Settings:
    threads: int
    iterations: int
    rounds: int  # threaded runs of a test that failed in threads (flaky or not)
    timeout: float  # seconds per test before it counts as hanging
    pytest_args: list[str] = field(default_factory=list)
    check: Callable[[], None] = _no_check  # called while tests run; raises to stop them (batch)


@dataclass
class TreeResult:
    label: str  # "working tree", "after apply", "ref main"
    root: Path
    verdicts: list[TestVerdict]
    problems: list[str]
    gil_enabled_in_tests: bool | None
    seconds: float
    apply: dict | None = None  # what `apply` changed, for the applied copy
    xdist_turned_off: list[str] = field(default_factory=list)  # the project's xdist options verify overrode

    @property
    def thread_problems(self) -> list[TestVerdict]:
        return [v for v in self.verdicts if v.verdict in THREAD_PROBLEMS]


def run_tree(
    env: ProjectEnv, tree: Path, label: str, settings: Settings, say: Callable[[str], None],
    on_test: Callable[[str, Outcome], None], watch: Sequence[str] = (),
) -> TreeResult:
    """The verdict of each test of ``tree``. ``watch``: tests that get every threaded round even
    when they pass (those that failed in threads in the tree compared with: one passing round
    of a flaky test proves little)."""
    install_tree(env, tree, say)
    args = _pytest_args(env, settings)

    def run(pytest_args: list[str], only=None):
        return run_pytest(env, tree, pytest_args, timeout=settings.timeout, only=only, on_test=on_test, check=settings.check)

    say(f"{label}: tests in one thread")
    single = run(args)
    threaded_args = _threaded(settings, args)
    say(f"{label}: tests in {settings.threads} threads x {settings.iterations} iterations")
    threaded = [run(threaded_args)]
    again = list(dict.fromkeys(reruns_needed(single, threaded[0]) + [n for n in watch if n in threaded[0].outcomes]))
    for round_number in range(2, settings.rounds + 1):
        if not again:
            break
        say(f"{label}: threaded round {round_number} of {len(again)} test(s) that failed in threads")
        threaded.append(run(threaded_args, only=again))
    found = verdicts(single, threaded)
    attach_findings(tree, [v for v in found if v.verdict in THREAD_PROBLEMS])
    runs = [single, *threaded]
    gil = [r.gil_enabled for r in runs if r.gil_enabled is not None]
    return TreeResult(
        label=label, root=tree, verdicts=found, problems=[p for r in runs for p in r.problems],
        gil_enabled_in_tests=any(gil) if gil else None, seconds=sum(r.seconds for r in runs),
        xdist_turned_off=xdist_options(single.addopts),
    )


def _pytest_args(env: ProjectEnv, settings: Settings) -> list[str]:
    return [*settings.pytest_args, *(TURN_OFF if "pytest-xdist" in env.sources else ())]


def _threaded(settings: Settings, args: list[str]) -> list[str]:
    return [f"--parallel-threads={settings.threads}", f"--iterations={settings.iterations}", *args]


def recheck_broken(
    env: ProjectEnv, before: TreeResult, after: TreeResult, comparison: dict, settings: Settings,
    say: Callable[[str], None], on_test: Callable[[str, Outcome], None],
) -> dict:
    """``comparison`` with its thread-only "broken" tests checked again on ``before``.

    A test that passed its one threaded round before the change and then failed in threads
    after it got more rounds after (every test that fails in threads does): the change is
    blamed only if the test passes as many threaded rounds on ``before`` as it had after.
    Failing any of them there too makes it "inconclusive" (waitress 3.0.2: 12 tests of
    modules the fix did not touch were "broken" by one lucky round before)."""
    rounds = {v.nodeid: len(v.rounds) for v in after.verdicts if v.verdict in THREAD_PROBLEMS}
    suspects = [n for n in comparison["broken"] if n in rounds]
    if not suspects:
        return comparison
    install_tree(env, before.root, say)
    threaded_args = _threaded(settings, _pytest_args(env, settings))
    failed: set[str] = set()
    for number in range(1, max(rounds[n] for n in suspects) + 1):
        again = [n for n in suspects if n not in failed and rounds[n] >= number]
        if not again:
            break
        say(f"{before.label}: threaded round {number} of {len(again)} test(s) the change seems to break")
        run = run_pytest(env, before.root, threaded_args, timeout=settings.timeout, only=again, on_test=on_test, check=settings.check)
        failed.update(n for n, o in run.outcomes.items() if o.status in BAD)
    return {
        **comparison,
        "broken": [n for n in comparison["broken"] if n not in failed],
        "inconclusive": [*comparison["inconclusive"], *(n for n in suspects if n in failed)],
    }


def compare(before: TreeResult, after: TreeResult) -> dict:
    """Which thread problems ``after`` removed, which remain, and which tests it broke.

    A flaky test says little either way: flaky on one side and passing on the other is
    "inconclusive", never "fixed" or "broken" (simplejson's test_keys_reuse_str flakes in
    its C decoder, which `apply` does not touch; one run "passed" it after the change).
    """
    old = {v.nodeid: v.verdict for v in before.verdicts}
    new = {v.nodeid: v.verdict for v in after.verdicts}
    both = [n for n in old if n in new]
    ok = (PASSES, SKIPPED)
    inconclusive = [n for n in both if FLAKY in (old[n], new[n]) and (old[n] in ok or new[n] in ok)]
    return {
        "before": before.label,
        "after": after.label,
        "fixed": [n for n in both if old[n] in THREAD_PROBLEMS and new[n] in ok and n not in inconclusive],
        "still_failing": [n for n in both if old[n] in THREAD_PROBLEMS and new[n] in THREAD_PROBLEMS],
        "broken": [n for n in both if old[n] in ok and new[n] not in ok and n not in inconclusive],
        "inconclusive": inconclusive,
        "only_before": [n for n in old if n not in new],
        "only_after": [n for n in new if n not in old],
    }
