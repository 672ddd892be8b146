"""FT004 on a free-threaded interpreter: the racy programs lose updates, the rewritten ones don't.

Each program has 4 threads meet at a barrier and then increment one shared item or
attribute 100,000 times each. Before the rewrite some trial must lose updates: likely, not
certain, so up to ATTEMPTS trials run until one does (measured: nearly every trial loses
updates). After ``apply`` every trial must print the exact total.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from codemods import select_rules
from ftmigrate.config import Config
from ftmigrate.runner import APPLY, run
from tests.conftest import run_ft

THREADS, ROUNDS, TRIALS, ATTEMPTS = 4, 100_000, 3, 10
EXPECTED = THREADS * ROUNDS

MODULE_DICT = """
    import threading

    stats = {"hits": 0}
    barrier = threading.Barrier(THREADS)


    def work():
        barrier.wait()
        for _ in range(ROUNDS):
            stats["hits"] += 1


    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(stats["hits"])
"""

THREAD_SUBCLASS = """
    import threading

    barrier = threading.Barrier(THREADS)


    class Worker(threading.Thread):
        def __init__(self):
            super().__init__()
            self.hits = 0

        def run(self):
            self.hit_many()

        def hit_many(self):
            barrier.wait()
            for _ in range(ROUNDS):
                self.hits += 1


    worker = Worker()
    helpers = [threading.Thread(target=worker.hit_many) for _ in range(THREADS - 1)]
    for t in [worker, *helpers]:
        t.start()
    for t in [worker, *helpers]:
        t.join()
    print(worker.hits)
"""

EXECUTOR = """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(THREADS)


    class Counter:
        def __init__(self):
            self.hits = 0

        def add(self, rounds):
            barrier.wait()
            for _ in range(rounds):
                self.hits += 1


    counter = Counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(counter.add, [ROUNDS] * THREADS))
    print(counter.hits)
"""

PROGRAMS = {"module-dict": MODULE_DICT, "thread-subclass": THREAD_SUBCLASS, "executor": EXECUTOR}


def _program(body: str) -> str:
    return f"THREADS = {THREADS}\nROUNDS = {ROUNDS}\n" + textwrap.dedent(body)


@pytest.mark.parametrize("name", PROGRAMS)
def test_apply_makes_totals_exact(name: str, ft_python: str, tmp_path: Path):
    path = tmp_path / f"{name.replace('-', '_')}.py"
    path.write_text(_program(PROGRAMS[name]), encoding="utf-8")

    before = []
    while len(before) < ATTEMPTS and not any(t < EXPECTED for t in before):
        before.append(int(run_ft(ft_python, path)))
    print(f"{name}: before the rewrite, totals {before} of {EXPECTED}")
    assert all(0 < t <= EXPECTED for t in before)
    assert any(t < EXPECTED for t in before), f"no lost update in {ATTEMPTS} trials: the test cannot see the race"

    report = run([path], select_rules(["FT004"], []), Config(root=tmp_path, unsafe_fixes=True), APPLY)
    assert [r.error for r in report.results] == [None]
    assert [(f.rule, f.fixed) for f in report.findings] == [("FT004", True)]
    rewritten = path.read_text(encoding="utf-8")
    assert rewritten.count("with ") == 1 + ("ThreadPoolExecutor" in rewritten)

    after = [int(run_ft(ft_python, path)) for _ in range(TRIALS)]
    print(f"{name}: after the rewrite, totals {after}")
    assert after == [EXPECTED] * TRIALS
