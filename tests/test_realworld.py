"""`apply` on real public libraries: their own tests pass the same after it, and every lock it adds is real.

Opt-in (``-m realworld``; pyproject's addopts deselects it): it downloads pinned sdists
(cached in ~/.cache/ftmigrate/sdists), builds a venv per library (cached in
~/.cache/ftmigrate/realworld-venvs) and runs each library's tests twice. The harness is
``scripts/realworld.py``; these tests assert on its results.
"""

from __future__ import annotations

import functools
import shutil

import pytest

from benchmarks.realworld import libraries
from benchmarks.realworld.harness import run_library

pytestmark = pytest.mark.realworld

LIBRARIES = libraries.load()
BY_NAME = {library.name: library for library in LIBRARIES}
WITH_TESTS = [library for library in LIBRARIES if library.suite is not None]


@pytest.fixture(scope="session")
def harness(tmp_path_factory):
    """``harness(name)``: one run per library and session (apply, classify locks, tests before and after)."""
    work = tmp_path_factory.mktemp("realworld")

    @functools.cache
    def result(name: str) -> dict:
        library = BY_NAME[name]
        outcome = run_library(library, work, tests=library.suite is not None)
        shutil.rmtree(work / library.label, ignore_errors=True)  # the copies: hundreds of MB in all
        return outcome

    return result


def test_the_manifest_covers_what_the_proof_needs():
    assert len(LIBRARIES) >= 15
    assert {"requests", "cachetools", "tornado", "jinja2", "urllib3", "distributed"} <= {lib.name for lib in WITH_TESTS}


@pytest.mark.parametrize("name", [library.name for library in WITH_TESTS])
def test_library_tests_have_the_same_outcome_after_apply(name, harness):
    outcome = harness(name)
    assert outcome["error"] is None
    suite = outcome["suite"]
    if BY_NAME[name].suite.args:
        assert suite["before"].get("passed", 0) > 0, suite  # the suite really ran on the pristine copy
    assert suite["changed"] == {}, "\n".join(f"{b} -> {a}: {test}" for test, (b, a) in suite["changed"].items())


@pytest.mark.parametrize("name", [library.name for library in WITH_TESTS if library.smoke])
def test_smoke_programs_pass_before_and_after_apply(name, harness):
    smoke = harness(name)["smoke"]
    assert smoke
    assert [(run["program"], run["before"], run["after"]) for run in smoke] == [
        (run["program"], 0, 0) for run in smoke
    ], [run["output"] or run["before_output"] for run in smoke]


@pytest.mark.parametrize("name", [library.name for library in LIBRARIES])
def test_every_inserted_lock_is_a_dedicated_or_proven_threading_lock(name, harness):
    outcome = harness(name)
    assert outcome["error"] is None
    bad = [
        f"{mode}: {lock['path']}:{lock['line']} with {lock['lock']} ({' '.join([lock['kind'], *lock['flags']])})"
        for mode, migration in outcome["migrations"].items()
        for lock in migration["locks"]
        if lock["kind"] == "unproven" or lock["flags"]
    ]
    assert bad == [], "\n".join(bad)
    assert [m["compile_errors"] for m in outcome["migrations"].values()] == [[] for _ in outcome["migrations"]]


@pytest.mark.parametrize("name", [library.name for library in LIBRARIES])
def test_apply_fixes_nothing_that_scan_did_not_report(name, harness):
    for migration in harness(name)["migrations"].values():
        assert migration["fixes"] <= migration["scan_fixable"], migration["mode"]
