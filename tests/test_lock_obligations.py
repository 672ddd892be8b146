"""The verifier's semantic obligations on inserted locks (``ftmigrate.lockcheck``), checked
on hand-written rewrites (what a faulty planner could write), and a refusal end to end:
through the command line the file stays byte for byte as it was."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from ftmigrate.locking import Inserted
from ftmigrate.verify import check_rewrite


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _check(old: str, new: str, exprs: set[str], created: set[str] = frozenset()) -> str | None:
    return check_rewrite(_code(old), _code(new), Inserted(lock_names=set(created), lock_exprs=set(exprs)))


COUNTER = """
    import threading

    counter = 0

    def bump():
        global counter
        counter += 1
"""


def test_a_lock_the_rewrite_defines_passes():
    new = """
        import threading

        counter = 0
        _counter_lock = threading.Lock()

        def bump():
            global counter
            with _counter_lock:
                counter += 1
    """
    assert _check(COUNTER, new, {"_counter_lock"}, {"_counter_lock"}) is None


def test_a_lock_that_is_declared_created_but_not_defined_is_refused():
    new = """
        import threading

        counter = 0

        def bump():
            global counter
            with _counter_lock:
                counter += 1
    """
    assert _check(COUNTER, new, {"_counter_lock"}, {"_counter_lock"}) == (
        "the inserted `with _counter_lock:` (line 7): `_counter_lock` is not defined as a threading lock where it is used"
    )


def test_an_inserted_lock_in_an_async_def_is_refused():
    old = COUNTER.replace("def bump", "async def bump")
    new = """
        import threading

        counter = 0
        _counter_lock = threading.Lock()

        async def bump():
            global counter
            with _counter_lock:
                counter += 1
    """
    assert _check(old, new, {"_counter_lock"}, {"_counter_lock"}) == (
        "the inserted `with _counter_lock:` (line 8) is inside `async def bump`"
    )


def test_an_inserted_lock_nested_in_another_is_refused():
    old = """
        import threading

        hits = 0
        misses = 0

        def bump():
            global hits, misses
            hits += 1
            misses += 1
    """
    new = """
        import threading

        hits = 0
        misses = 0
        _hits_lock = threading.Lock()
        _misses_lock = threading.Lock()

        def bump():
            global hits, misses
            with _hits_lock:
                hits += 1
                with _misses_lock:
                    misses += 1
    """
    assert _check(old, new, {"_hits_lock", "_misses_lock"}, {"_hits_lock", "_misses_lock"}) == (
        "the inserted `with _misses_lock:` (line 12) is nested in the inserted `with` of line 10"
    )


OBJECT = """
    import {module}

    class Pool:
        def __init__(self):
            self._lock = {module}.Lock()
            self.size = 0

        def add(self):
            with self._lock:
                self.size += 1

        def {method}(self{params}):
            self.size -= 1
"""


def _reuse(module: str, method: str, params: str = "") -> tuple[str, str]:
    old = OBJECT.format(module=module, method=method, params=params)
    new = old.replace("            self.size -= 1\n", "            with self._lock:\n                self.size -= 1\n")
    return old, new


def test_a_proven_instance_lock_reused_in_an_ordinary_method_passes():
    assert _check(*_reuse("threading", "remove"), {"self._lock"}) is None


def test_an_asyncio_lock_is_never_reused():
    assert _check(*_reuse("asyncio", "remove"), {"self._lock"}) == (
        "the inserted `with self._lock:` (line 13): `self._lock` is not always bound to a threading lock"
    )


@pytest.mark.parametrize("method, params", [("__setstate__", ", state"), ("__deepcopy__", ", memo"), ("__reduce__", "")])
def test_an_instance_lock_is_not_taken_where_init_may_not_have_run(method, params):
    assert _check(*_reuse("threading", method, params), {"self._lock"}) == (
        f"the inserted `with self._lock:` (line 13): `self._lock` is an instance lock, and `{method}` may run "
        "before `__init__` creates it"
    )


def test_a_lock_is_not_taken_around_the_code_that_creates_it():
    """requests 2.34.2, cookies.py: ``__setstate__`` recreates ``_cookies_lock``."""
    old = """
        import threading

        class Jar:
            def __init__(self):
                self._cookies_lock = threading.RLock()

            def __setstate__(self, state):
                self.__dict__.update(state)
                if "_cookies_lock" not in self.__dict__:
                    self._cookies_lock = threading.RLock()
    """
    new = old.replace(
        '                if "_cookies_lock" not in self.__dict__:\n                    self._cookies_lock = threading.RLock()\n',
        '                if "_cookies_lock" not in self.__dict__:\n                    with self._cookies_lock:\n'
        '                        if "_cookies_lock" not in self.__dict__:\n'
        "                            self._cookies_lock = threading.RLock()\n",
    )
    assert _check(old, new, {"self._cookies_lock"}) == (
        "the inserted `with self._cookies_lock:` (line 10) guards the code that creates that lock"
    )


def test_an_instance_lock_is_not_taken_in_init_before_it_is_created():
    old = """
        import threading

        class Pool:
            def __init__(self):
                self.size = 0
                self.size += 1
                self._lock = threading.Lock()

            def add(self):
                with self._lock:
                    self.size += 1
    """
    new = old.replace("                self.size += 1\n                self._lock", "                with self._lock:\n                    self.size += 1\n                self._lock")
    assert _check(old, new, {"self._lock"}) == (
        "the inserted `with self._lock:` (line 6): `self._lock` is taken in `__init__` before it is created"
    )


# --- end to end -------------------------------------------------------------------------

HELPER_LOCK = _code(
    """
    from tests_support import CountingLock

    counter = 0
    lock = CountingLock()


    def counted():
        global counter
        with lock:
            counter += 1


    def uncounted():
        global counter
        counter += 1
    """
)


def test_cli_reuses_no_unproven_lock_and_refuses_a_rewrite_that_would(tmp_path: Path, monkeypatch):
    """A test helper's lock is never reused, nor replaced by a new lock that would not
    exclude the code it guards: the finding stays, with the reason. If the planner ever
    did reuse it, the verifier refuses: exit 1, the reason, the file untouched."""
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "counters.py"
    target.write_text(HELPER_LOCK)
    runner = CliRunner()
    message = "counters.py:15:5: FT001 `counter` (module state) is read, modified and written without a lock; concurrent threads lose updates [confidence: medium]"
    honest = runner.invoke(app, ["apply", "--no-cache", "--select", "FT001", "counters.py"], catch_exceptions=False)
    assert honest.exit_code == 1
    assert honest.stdout.splitlines() == [
        f"{message} (not fixed: `counter` is locked elsewhere by `lock`, which is not a proven threading lock here; "
        "a new lock would not exclude that code)",
        "Fixed 0 findings in 0 files; 1 remaining.",
    ]
    assert target.read_bytes() == HELPER_LOCK.encode()

    # A planner that takes every object for a proven thread lock (the bug this guards against).
    planner = "ftmigrate.lockreuse"
    monkeypatch.setattr(f"{planner}.proven_lock", lambda *args: True)
    result = runner.invoke(app, ["apply", "--no-cache", "--select", "FT001", "counters.py"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{message} (no automatic fix)", "Fixed 0 findings in 0 files; 1 remaining, 1 error."]
    assert result.stderr == (
        "error: counters.py: rewrite refused, file left unchanged: the inserted `with lock:` (line 15): `lock` is not "
        "bound to a threading lock by the module or an enclosing function\n"
    )
    assert target.read_bytes() == HELPER_LOCK.encode()
