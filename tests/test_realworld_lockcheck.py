"""The real-code harness's lock classifier (benchmarks/realworld/lockcheck.py) on small exact cases.

It must tell a dedicated or proven threading lock from everything else without using
ftmigrate's own analysis; these cases are the ones issue 14 saw on real libraries.
"""

from __future__ import annotations

import textwrap

from benchmarks.realworld.lockcheck import classify


def inserted(old: str, new: str) -> list[tuple[str, str, str, list[str]]]:
    return [(lock.function, lock.lock, lock.kind, lock.flags)
            for lock in classify(textwrap.dedent(old), textwrap.dedent(new))]


def wrap(source: str, statement: str, lock: str) -> str:
    """``source`` with the line ``statement`` put under ``with lock:``, at its indentation."""
    lines = source.splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.strip() == statement]
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index: index + 1] = [f"{indent}with {lock}:", f"{indent}    {statement}"]
    return "\n".join(lines)


def test_a_new_module_lock_is_dedicated_and_an_asyncio_lock_is_unproven():
    old = """
        import asyncio
        n = 0
        a = asyncio.Lock()
        def f():
            global n
            n += 1
            n -= 1
    """
    new = """
        import asyncio
        import threading
        n = 0
        _n_lock = threading.Lock()
        a = asyncio.Lock()
        def f():
            global n
            with _n_lock:
                n += 1
            with a:
                n -= 1
    """
    assert inserted(old, new) == [("f", "_n_lock", "dedicated", []), ("f", "a", "unproven", [])]


def test_existing_threading_locks_through_aliases_are_proven():
    old = """
        import threading as t
        from threading import RLock as R, Condition
        class C:
            _guard = R()
            def __init__(self):
                self.cond = Condition()
                self.state = t.Semaphore(2)
                self.jobs = {}
            def a(self):
                self.x += 1
            def b(self):
                type(self).y += 1
            def c(self):
                self.z += 1
            def d(self):
                self.w += 1
    """
    new = wrap(wrap(wrap(old, "self.x += 1", "self.cond"), "type(self).y += 1", "C._guard"), "self.z += 1", "self.state")
    new = wrap(new, "self.w += 1", "self.__class__._guard")
    assert inserted(old, new) == [
        ("C.a", "self.cond", "proven", []),
        ("C.b", "C._guard", "proven", []),
        ("C.c", "self.state", "proven", []),
        ("C.d", "self.__class__._guard", "proven", []),
    ]


def test_a_name_bound_once_to_something_else_is_unproven():
    old = """
        import threading
        from collections import defaultdict
        class C:
            def __init__(self, lock=None):
                self.lock = threading.Lock()
                self.locks = defaultdict(list)
                self.given = lock
            def reset(self):
                self.lock = None
            def a(self):
                self.x += 1
    """
    for lock in ("self.lock", "self.locks", "self.given", "lock_from_nowhere"):
        new = wrap(old, "self.x += 1", lock)
        assert inserted(old, new) == [("C.a", lock, "unproven", [])]


def test_an_instance_lock_taken_where_init_has_not_run_is_unbound():
    old = """
        import threading
        class Jar:
            def __init__(self):
                self._lock = threading.RLock()
            def __setstate__(self, state):
                self.__dict__.update(state)
                if "_lock" not in self.__dict__:
                    self._lock = threading.RLock()
    """
    new = old.replace(
        '                if "_lock" not in self.__dict__:\n                    self._lock = threading.RLock()',
        '                with self._lock:\n                    if "_lock" not in self.__dict__:\n'
        '                        self._lock = threading.RLock()',
    )
    assert new != old
    assert inserted(old, new) == [("Jar.__setstate__", "self._lock", "proven", ["unbound"])]


def test_a_lock_in_async_code_or_around_another_inserted_lock_is_flagged():
    old = """
        import threading
        n = 0
        m = 0
        async def f():
            global n, m
            n += 1
            m += 1
    """
    new = """
        import threading
        n = 0
        _n_lock = threading.Lock()
        m = 0
        _m_lock = threading.Lock()
        async def f():
            global n, m
            with _n_lock:
                n += 1
                with _m_lock:
                    m += 1
    """
    assert inserted(old, new) == [
        ("f", "_n_lock", "dedicated", ["in_async", "nested"]),
        ("f", "_m_lock", "dedicated", ["in_async"]),
    ]


def test_existing_with_statements_are_not_counted_as_inserted():
    old = """
        import threading
        L = threading.Lock()
        def f(path):
            with open(path) as stream:
                return stream.read()
            with L:
                pass
    """
    assert inserted(old, old) == []


def test_an_annotation_without_a_value_binds_nothing():
    old = """
        import threading
        class Worker:
            _lock: threading.Lock
            def __init__(self):
                self._lock = threading.Lock()
            def a(self):
                self.x += 1
    """
    assert inserted(old, wrap(old, "self.x += 1", "self._lock")) == [("Worker.a", "self._lock", "proven", [])]
