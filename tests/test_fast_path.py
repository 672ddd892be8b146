"""The fast path (prefilters, process pool, cache) finds exactly what the plain path finds.

The plain path parses every file with LibCST and runs every rule on it, in-process,
without cache. Both run over the same deterministic sample of real files from the
running interpreter's standard library, for every registered rule, so the test keeps
holding as rules are added.
"""

from __future__ import annotations

import ast
import re
import sysconfig
import warnings
from pathlib import Path

import pytest

from codemods import ALL_RULES, select_rules
from ftmigrate import runner
from ftmigrate.config import Config
from ftmigrate.runner import DIFF, SCAN, run
from ftmigrate.sourcefile import decode_source
from tests.conftest import TESTDATA

STDLIB = Path(sysconfig.get_path("stdlib"))


def _stdlib_sample() -> list[Path]:
    """Every 12th file of the standard library, plus for each rule up to 50 of the files both
    its prefilters (text and ``ast``) let through, evenly spread, so that each rule has
    material: ~300 files. Files over 32 KB are left out to keep the plain path's LibCST
    parses affordable."""
    files = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts and p.stat().st_size <= 32_000)
    texts = {p: p.read_bytes().decode("utf-8", "replace") for p in files}
    trees = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in files:
            try:
                trees[p] = ast.parse(texts[p])
            except (SyntaxError, ValueError):
                pass
    sample = set(files[::12])
    for rule in ALL_RULES:
        passing = [p for p in trees if rule().prefilter(texts[p]) and rule().candidate(trees[p])]
        sample |= set(passing[:: max(1, len(passing) // 50)])
    return sorted(sample)


SAMPLE = _stdlib_sample()


def _findings(report) -> list[tuple]:
    return sorted((f.rule, f.path, f.line, f.column, f.end_line, f.end_column, f.message, f.fixable) for f in report.findings)


@pytest.fixture(scope="module")
def plain():
    """The reference: no prefilter, LibCST for every file, one process, no cache."""
    rules = select_rules(None, [])
    return run(SAMPLE, rules, Config(root=STDLIB), SCAN, jobs=1, cache=False, prefilter=False)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache-root")


def test_sample_is_large_and_has_findings_of_every_rule(plain):
    assert len(SAMPLE) >= 200
    found = {f.rule for f in plain.findings}
    assert found == {rule.code for rule in ALL_RULES}, f"sample lacks findings of {set(r.code for r in ALL_RULES) - found}"


def test_fast_path_finds_exactly_what_the_plain_path_finds(plain, cache_root):
    rules = select_rules(None, [])
    cold = run(SAMPLE, rules, Config(root=cache_root), SCAN, jobs=2, cache=True)
    assert _findings(cold) == _findings(plain)
    assert [r.path for r in cold.results] == [r.path for r in plain.results]  # discovery order
    assert (cache_root / ".ftmigrate_cache").is_dir()


def test_warm_cache_answers_everything_and_identically(plain, cache_root, monkeypatch):
    rules = select_rules(None, [])
    cold = run(SAMPLE, rules, Config(root=cache_root), SCAN, jobs=1, cache=True)  # (re)fills the cache

    def no_checking(work, *args, **kwargs):
        assert not work, f"{len(work)} files were checked although cached"
        return iter(())

    monkeypatch.setattr(runner, "check_files_parallel", no_checking)
    warm = run(SAMPLE, rules, Config(root=cache_root), SCAN, jobs=2, cache=True)
    assert _findings(warm) == _findings(cold) == _findings(plain)
    assert [(r.path, r.error, r.checked) for r in warm.results] == [(r.path, r.error, r.checked) for r in cold.results]


def test_diff_with_cache_and_pool_rewrites_what_the_plain_path_rewrites(plain, cache_root):
    """Only files with a fixable finding can change, so the plain path need only rewrite those."""
    rules = select_rules(None, [])
    fast = run(SAMPLE, rules, Config(root=cache_root), DIFF, jobs=2, cache=True)
    fixable = [r.path for r in plain.results if any(f.fixable for f in r.findings)]
    slow = run(fixable, rules, Config(root=STDLIB), DIFF, jobs=1, cache=False, prefilter=False)
    assert slow.changed, "the sample has fixable findings"
    assert [(r.path, r.new_text) for r in fast.changed] == [(r.path, r.new_text) for r in slow.changed]
    assert sorted(f for f in _findings(fast) if f[1] in map(str, fixable)) == _findings(slow)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_prefilters_accept_every_example_and_fixture_with_findings(rule):
    rule = rule()
    sources = [example.code for example in rule.INVALID]
    for before in (TESTDATA / rule.code).glob("*.before.py"):
        after = before.with_name(before.name.replace(".before.py", ".after.py"))
        if before.read_bytes() != after.read_bytes():  # fixed, so it has findings
            sources.append(decode_source(before, before.read_bytes()).text)
    assert sources
    for code in sources:
        assert rule.prefilter(code), code
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shared = re.search(r"ftmigrate-test: shared-classes=([\w,]+)", code)  # the fixture's own config
            assert rule.candidate(ast.parse(code), frozenset(shared.group(1).split(",")) if shared else frozenset()), code
