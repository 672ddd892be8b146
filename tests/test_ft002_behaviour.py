"""FT002 on the free-threaded interpreter: check-then-act races before `apply`, none after.

Each test writes a small module and a driver to a temp folder, runs the driver on
CPython 3.13t (GIL disabled) for many trials, rewrites the module with the real
`ftmigrate apply`, checks the rewrite byte for byte, and runs the trials again. Threads
start together at a `threading.Barrier`. Before the fix the race must show: a race is
likely, not certain, so the TRIALS trials are run again, up to ATTEMPTS times, until at
least one trial shows a duplicate / an extra computation / a lost value (measured: about
half of the 200 trials do, on the first attempt). After the fix the exact result is
asserted in every trial. The numbers are printed (run with `-s` to see them).
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.conftest import run_ft

THREADS = 6
TRIALS = 200
ATTEMPTS = 5


def _write(path: Path, code: str) -> Path:
    path.write_text(textwrap.dedent(code).lstrip(), encoding="utf-8")
    return path


def _apply(module: Path) -> str:
    """`ftmigrate apply --unsafe-fixes` on ``module`` (the test runs in its folder); it must fix
    everything (the cache that computes on a miss holds its lock around `compute()`: unsafe)."""
    result = CliRunner().invoke(app, ["apply", "--unsafe-fixes", "--select", "FT002", module.name], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    shutil.rmtree(module.parent / "__pycache__", ignore_errors=True)
    return module.read_text(encoding="utf-8")


def _trials(ft_python: str, driver: Path) -> list[dict]:
    results = json.loads(run_ft(ft_python, driver))
    assert len(results) == TRIALS
    return results


def before_and_after(
    ft_python: str, folder: Path, name: str, code: str, trial: str, fixed: str, raced: Callable[[dict], bool]
) -> tuple[list, list]:
    """The trials' results with module ``name`` as written (the first attempt in which
    some trial ``raced``; the race must show within ATTEMPTS attempts), then after `apply`
    (which must turn it into ``fixed`` exactly)."""
    module = _write(folder / f"{name}.py", code)  # the caller runs in ``folder``
    driver = _write(folder / "drive.py", _DRIVER.format(module=name, threads=THREADS, trials=TRIALS) + trial)
    for attempt in range(1, ATTEMPTS + 1):
        before = _trials(ft_python, driver)
        if any(raced(t) for t in before):
            break
    else:
        raise AssertionError(f"the unfixed {name} never raced in {ATTEMPTS} x {TRIALS} trials: the test cannot see the race")
    print(f"\n{name}: the race showed in attempt {attempt} of at most {ATTEMPTS}")
    assert _apply(module) == fixed
    return before, _trials(ft_python, driver)


# Each driver runs TRIALS trials of THREADS threads released together and prints one
# JSON object per trial.
_DRIVER = """
import collections
import json
import threading

import {module}

THREADS = {threads}
TRIALS = {trials}


def run_threads(work):
    barrier = threading.Barrier(THREADS)

    def worker():
        barrier.wait()
        work()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""

DEDUPE = """
seen = []


def add_all(items):
    for item in items:
        if item not in seen:
            seen.append(item)
"""

DEDUPE_FIXED = """\
import threading

seen = []
_seen_lock = threading.Lock()


def add_all(items):
    for item in items:
        with _seen_lock:
            if item not in seen:
                seen.append(item)
"""

DEDUPE_TRIAL = """
ITEMS = list(range(300))


def trial():
    dedupe.seen.clear()
    run_threads(lambda: dedupe.add_all(ITEMS))
    return {"duplicates": len(dedupe.seen) - len(set(dedupe.seen)), "complete": sorted(set(dedupe.seen)) == ITEMS}


print(json.dumps([trial() for _ in range(TRIALS)]))
"""


def test_dedupe_list_has_no_duplicates_after_apply(ft_python, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before, after = before_and_after(
        ft_python, tmp_path, "dedupe", DEDUPE, DEDUPE_TRIAL, DEDUPE_FIXED, raced=lambda t: t["duplicates"] > 0
    )
    duplicates = [t["duplicates"] for t in before]
    print(
        f"\nFT002 dedupe before apply: duplicates in {sum(d > 0 for d in duplicates)} of {TRIALS} trials "
        f"({THREADS} threads, 300 items), {sum(duplicates)} in all, at most {max(duplicates)} in one trial"
    )
    assert all(t["complete"] for t in before)  # append itself is atomic: no item is ever lost

    print(f"FT002 dedupe after apply: duplicates {sum(t['duplicates'] for t in after)} in {TRIALS} trials")
    assert [t["duplicates"] for t in after] == [0] * TRIALS
    assert all(t["complete"] for t in after)


MEMO = """
computed = []
cache = {}


def compute(key):
    computed.append(key)
    return key * key


def get(key):
    if key not in cache:
        cache[key] = compute(key)
    return cache[key]
"""

MEMO_FIXED = """\
import threading

computed = []
cache = {}
_cache_lock = threading.RLock()


def compute(key):
    computed.append(key)
    return key * key


def get(key):
    with _cache_lock:
        if key not in cache:
            cache[key] = compute(key)
        return cache[key]
"""

MEMO_TRIAL = """
KEYS = list(range(300))


def trial():
    memo.cache.clear()
    memo.computed.clear()
    wrong = []

    def work():
        for key in KEYS:
            if memo.get(key) != key * key:
                wrong.append(key)

    run_threads(work)
    counts = collections.Counter(memo.computed)
    return {
        "recomputed_keys": sum(1 for k in KEYS if counts[k] > 1),
        "computations": len(memo.computed),
        "each_once": sorted(memo.computed) == KEYS,
        "wrong": len(wrong),
    }


print(json.dumps([trial() for _ in range(TRIALS)]))
"""


def test_compute_on_miss_cache_computes_each_key_once_after_apply(ft_python, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before, after = before_and_after(  # compute(): an RLock
        ft_python, tmp_path, "memo", MEMO, MEMO_TRIAL, MEMO_FIXED, raced=lambda t: t["computations"] > 300
    )
    recomputed = [t["recomputed_keys"] for t in before]
    print(
        f"\nFT002 cache before apply: keys computed more than once in {sum(r > 0 for r in recomputed)} of "
        f"{TRIALS} trials ({THREADS} threads, 300 keys), {sum(recomputed)} keys in all, "
        f"{sum(t['computations'] for t in before) - 300 * TRIALS} extra computations"
    )
    assert all(t["computations"] >= 300 and t["wrong"] == 0 for t in before)
    print(f"FT002 cache after apply: {sum(t['computations'] for t in after) - 300 * TRIALS} extra computations")
    assert [t["each_once"] for t in after] == [True] * TRIALS
    assert [t["computations"] for t in after] == [300] * TRIALS
    assert [t["wrong"] for t in after] == [0] * TRIALS


GROUPS = """
groups = {}


def add(key, value):
    if key not in groups:
        groups[key] = []
    groups[key].append(value)
"""

GROUPS_FIXED = """\
groups = {}


def add(key, value):
    groups.setdefault(key, [])
    groups[key].append(value)
"""

GROUPS_TRIAL = """
KEYS = list(range(300))


def trial():
    groups.groups.clear()
    run_threads(lambda: [groups.add(key, threading.get_ident()) for key in KEYS])
    return {"values": sum(len(v) for v in groups.groups.values()), "keys": sorted(groups.groups) == KEYS}


print(json.dumps([trial() for _ in range(TRIALS)]))
"""


def test_setdefault_rewrite_loses_no_values(ft_python, tmp_path, monkeypatch):
    """`if k not in d: d[k] = []` lets a second thread replace the first one's list, and
    the values appended to it are lost; the rewrite to `d.setdefault(k, [])` is atomic."""
    monkeypatch.chdir(tmp_path)
    expected = THREADS * 300
    before, after = before_and_after(
        ft_python, tmp_path, "groups", GROUPS, GROUPS_TRIAL, GROUPS_FIXED, raced=lambda t: t["values"] < expected
    )
    lost = [expected - t["values"] for t in before]
    print(
        f"\nFT002 groups before apply: values lost in {sum(n > 0 for n in lost)} of {TRIALS} trials "
        f"({THREADS} threads, 300 keys), {sum(lost)} in all"
    )
    assert all(t["keys"] for t in before)
    print(f"FT002 groups after apply: {sum(expected - t['values'] for t in after)} values lost")
    assert [t["values"] for t in after] == [expected] * TRIALS
    assert all(t["keys"] for t in after)
