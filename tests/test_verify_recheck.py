"""A test "broken" by a change must pass on the old tree as many threaded rounds as it failed
on the new one; failing there too is "inconclusive" (ftmigrate.threadtests.compare.recheck_broken)."""

from __future__ import annotations

from pathlib import Path

from ftmigrate.threadtests import compare as cmp
from ftmigrate.threadtests import outcomes
from ftmigrate.threadtests.outcomes import PASSES, THREAD_ONLY
from ftmigrate.threadtests.testrun import Outcome, PytestRun


def tree(label: str, root: Path, verdicts: list[outcomes.TestVerdict]) -> cmp.TreeResult:
    return cmp.TreeResult(label=label, root=root, verdicts=verdicts, problems=[], gil_enabled_in_tests=False, seconds=0.0)


def test_a_test_that_fails_in_threads_on_the_old_tree_too_is_not_broken(tmp_path, monkeypatch):
    old, new = tmp_path / "old", tmp_path / "new"
    before = tree("working tree", old, [
        outcomes.TestVerdict("t.py::test_flaky", PASSES, "passed", ["passed"], True),
        outcomes.TestVerdict("t.py::test_broken", PASSES, "passed", ["passed"], True),
    ])
    after = tree("after apply", new, [
        outcomes.TestVerdict("t.py::test_flaky", THREAD_ONLY, "passed", ["failed"] * 3, True),
        outcomes.TestVerdict("t.py::test_broken", THREAD_ONLY, "passed", ["failed"] * 3, True),
    ])
    installed, runs = [], []
    # On the old tree test_flaky fails its second threaded round; test_broken passes all three.
    scripted = iter([
        {"t.py::test_flaky": "passed", "t.py::test_broken": "passed"},
        {"t.py::test_flaky": "failed", "t.py::test_broken": "passed"},
        {"t.py::test_broken": "passed"},
    ])

    def fake_install(env, root, say=None):
        installed.append(root)

    def fake_pytest(env, root, args, *, timeout, only, on_test, check):
        runs.append((root, list(only), [a for a in args if a.startswith("--parallel-threads")]))
        return PytestRun(outcomes={n: Outcome(s) for n, s in next(scripted).items()})

    monkeypatch.setattr(cmp, "install_tree", fake_install)
    monkeypatch.setattr(cmp, "run_pytest", fake_pytest)
    env = type("Env", (), {"sources": {}})()
    settings = cmp.Settings(threads=4, iterations=1, rounds=3, timeout=10)
    comparison = cmp.compare(before, after)
    assert comparison["broken"] == ["t.py::test_flaky", "t.py::test_broken"]
    checked = cmp.recheck_broken(env, before, after, comparison, settings, lambda _: None, lambda *_: None)
    assert checked["broken"] == ["t.py::test_broken"]
    assert checked["inconclusive"] == ["t.py::test_flaky"]
    assert installed == [old]
    assert runs == [
        (old, ["t.py::test_flaky", "t.py::test_broken"], ["--parallel-threads=4"]),
        (old, ["t.py::test_flaky", "t.py::test_broken"], ["--parallel-threads=4"]),
        (old, ["t.py::test_broken"], ["--parallel-threads=4"]),
    ]


def test_nothing_is_run_again_when_nothing_broke(tmp_path, monkeypatch):
    before = tree("working tree", tmp_path, [outcomes.TestVerdict("t.py::test_a", PASSES, "passed", ["passed"], True)])
    after = tree("after apply", tmp_path, [outcomes.TestVerdict("t.py::test_a", PASSES, "passed", ["passed"], True)])
    monkeypatch.setattr(cmp, "run_pytest", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran pytest")))
    comparison = cmp.compare(before, after)
    env = type("Env", (), {"sources": {}})()
    settings = cmp.Settings(threads=4, iterations=1, rounds=3, timeout=10)
    assert cmp.recheck_broken(env, before, after, comparison, settings, lambda _: None, lambda *_: None) is comparison
