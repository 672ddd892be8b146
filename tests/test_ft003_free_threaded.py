"""FT003 on a free-threaded interpreter: lazy initialisation races before, and not after.

Each program runs TRIALS trials; in each, 8 threads released together by a Barrier ask
for the lazily created object, whose construction sleeps 1 ms. The program prints, per
trial, how many objects were created and how many distinct objects the threads got.
Before the rewrite the numbers are printed (races are likely, not certain: only "it
raced at least once" is asserted); after `ftmigrate apply` every trial must create
exactly one object, hand it to all 8 threads, and never hand it out half-built.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, run_ft

TRIALS = 60

HARNESS = """
import json
import threading
import time

THREADS = 8
TRIALS = {trials}
CREATED = []


def trial(reset, get):
    reset()
    CREATED.clear()
    barrier = threading.Barrier(THREADS)
    seen = []

    def worker():
        barrier.wait()
        obj = get()
        seen.append((obj, getattr(obj, "ready", True)))  # ready when handed out?

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [len(CREATED), len({{id(obj) for obj, _ in seen}}), sum(not ready for _, ready in seen)]
"""

SINGLETON = """
class Singleton:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            time.sleep(0.001)  # slow construction
            obj = super().__new__(cls)
            CREATED.append(obj)
            cls._instance = obj
        return cls._instance


def reset():
    Singleton._instance = None


print(json.dumps([trial(reset, Singleton) for _ in range(TRIALS)]))
"""

LAZY_GLOBAL = """
class Client:
    pass


_client = None


def make_client():
    time.sleep(0.001)  # connecting takes a while
    client = Client()
    CREATED.append(client)
    return client


def get_client():
    global _client
    if _client is None:
        _client = make_client()
    return _client


def reset():
    global _client
    _client = None


print(json.dumps([trial(reset, get_client) for _ in range(TRIALS)]))
"""

# Published first, set up afterwards: a thread on the fast path can get it half-built.
HALF_BUILT = """
class Config:
    _instance = None

    def __init__(self):
        self.ready = False
        CREATED.append(self)

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = cls()
            time.sleep(0.001)  # loading the settings takes a while
            cls._instance.ready = True
        return cls._instance


def reset():
    Config._instance = None


print(json.dumps([trial(reset, Config.get) for _ in range(TRIALS)]))
"""


def _program(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "program.py"
    path.write_text(textwrap.dedent(HARNESS).format(trials=TRIALS) + textwrap.dedent(body))
    return path


def _trials(ft_python: str, path: Path) -> list[tuple[int, int, int]]:
    return [tuple(t) for t in json.loads(run_ft(ft_python, path))]


def _apply(path: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "ftmigrate", "apply", "--unsafe-fixes", "--select", "FT003", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return path.read_text()


def _report(label: str, trials: list[tuple[int, int, int]]) -> None:
    created = collections.Counter(t[0] for t in trials)
    raced = sum(t[0] > 1 for t in trials)
    half_built = sum(t[2] for t in trials)
    print(
        f"\n{label}: objects created per trial {dict(sorted(created.items()))}; "
        f"{raced}/{len(trials)} trials created more than one; half-built objects handed out: {half_built}"
    )


@pytest.mark.parametrize(
    "body, expected_code",
    [
        pytest.param(SINGLETON, "with cls._instance_lock:", id="new-singleton"),
        pytest.param(LAZY_GLOBAL, "with _client_lock:", id="lazy-global"),
        pytest.param(HALF_BUILT, "cls._instance = instance", id="half-built"),
    ],
)
def test_lazy_initialisation_creates_one_object_after_apply(ft_python, tmp_path, body, expected_code):
    path = _program(tmp_path, body)
    before = _trials(ft_python, path)
    _report("before", before)
    # Measured: 8 objects in almost every trial (half-built: ~300 of 480 hand-outs). Only
    # "the race shows at all" is asserted; it proves the harness can see what it tests.
    assert any(created > 1 or half_built > 0 for created, _, half_built in before), before

    fixed = _apply(path)
    assert expected_code in fixed
    after = _trials(ft_python, path)
    _report("after", after)
    # Every trial: one object created, every thread got it, none saw it half-built.
    assert after == [(1, 1, 0)] * TRIALS
