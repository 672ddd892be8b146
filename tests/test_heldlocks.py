"""Which locks are held where code runs, on the standard ``ast`` (ftmigrate/heldlocks.py):
every form of holding a lock that ``ftmigrate.analysis`` documents, the forms that hold
nothing, and LibCST's lines and blocks kept exactly (a one-line suite, ``a; b``)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from ftmigrate.analysis import FileContext

HEADER = "import threading\nlock = threading.Lock()\nguard = threading.RLock()\n\n"


def context(code: str) -> FileContext:
    text = HEADER + textwrap.dedent(code)
    return FileContext(ast.parse(text), text)


def statement(ctx: FileContext, source: str, nth: int = 0) -> ast.stmt:
    """The ``nth`` statement whose source is exactly ``source``."""
    found = [n for n in ctx.nodes if isinstance(n, ast.stmt) and ctx.code(n) == source]
    return found[nth]


def function(ctx: FileContext, name: str):
    return next(n for n in ctx.nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)


def held(ctx: FileContext, node: ast.AST) -> list[tuple[str, str, str | None]]:
    return [(r.code, r.kind, r.function.name if r.function else None) for r in ctx.locks_held_at(node)]


@pytest.mark.parametrize(
    "code, expected",
    [
        ("def f():\n    with lock:\n        x = 1\n", [("lock", "with", "f")]),
        ("async def f():\n    async with lock:\n        x = 1\n", [("lock", "with", "f")]),
        ("def f():\n    with lock as held:\n        x = 1\n", [("lock", "with", "f")]),
        ("def f(k):\n    with open(k) as fh, lock:\n        x = 1\n", [("lock", "with", "f")]),
        ("def f(self):\n    with self._cond:\n        x = 1\n", [("self._cond", "with", "f")]),
        ("def f():\n    with lock:\n        with guard:\n            x = 1\n", [("guard", "with", "f"), ("lock", "with", "f")]),
        ("def f():\n    with lock:\n        for i in range(3):\n            if i:\n                x = 1\n", [("lock", "with", "f")]),
        ("def f():\n    lock.acquire()\n    x = 1\n", [("lock", "acquire", "f")]),
        ("def f():\n    lock.acquire()\n    lock.release()\n    x = 1\n", []),
        # The try body: released by the finally, and acquired before the try.
        ("def f():\n    lock.acquire()\n    try:\n        x = 1\n    finally:\n        lock.release()\n", [("lock", "acquire", "f"), ("lock", "acquire", "f")]),
        ("def f():\n    try:\n        lock.acquire()\n        x = 1\n    finally:\n        lock.release()\n", [("lock", "acquire", "f"), ("lock", "acquire", "f")]),
        # After a try whose finally releases it, no longer held.
        ("def f():\n    lock.acquire()\n    try:\n        y = 2\n    finally:\n        lock.release()\n    x = 1\n", []),
        ("def f():\n    _acquireLock()\n    try:\n        x = 1\n    finally:\n        _releaseLock()\n", [("", "acquire", "f")]),
        ("def f():\n    try:\n        x = 1\n    finally:\n        _imp.release_lock()\n", [("", "acquire", "f")]),
        ("@synchronized\ndef f():\n    x = 1\n", [("", "decorator", "f")]),
        ("@synchronized(lock)\ndef f():\n    x = 1\n", [("", "decorator", "f")]),
        ("@utils.with_lock\ndef f():\n    x = 1\n", [("", "decorator", "f")]),
        ("with lock:\n    x = 1\n", [("lock", "with", None)]),
        ("lock.acquire()\nx = 1\n", [("lock", "acquire", None)]),
        # Not held: a new lock each time, after a release, in a handler or else of the try.
        ("def f():\n    with threading.Lock():\n        x = 1\n", []),
        ("def f():\n    if lock.acquire(timeout=1):\n        x = 1\n", []),
        ("def f():\n    try:\n        pass\n    except E:\n        x = 1\n    finally:\n        lock.release()\n", []),
        ("def f():\n    try:\n        pass\n    finally:\n        lock.release()\n        x = 1\n", []),
        # Code defined under a lock runs later: not held.
        ("def f():\n    with lock:\n        def g():\n            x = 1\n", []),
        ("class C:\n    with lock:\n        class D:\n            x = 1\n", []),
    ],
)
def test_locks_held_at_the_statement(code: str, expected):
    ctx = context(code)
    assert held(ctx, statement(ctx, "x = 1")) == expected


def test_code_in_a_lambda_under_a_lock_is_not_held():
    ctx = context("def f():\n    with lock:\n        g = lambda: x\n")
    lam = next(n for n in ctx.nodes if isinstance(n, ast.Lambda))
    assert held(ctx, lam.body) == []
    assert held(ctx, lam) == [("lock", "with", "f")]


@pytest.mark.parametrize(
    "code, expected",
    [
        # LibCST's one-line suite is no indented block: an acquire in it holds nothing.
        ("def f(k):\n    if k: lock.acquire(); x = 1\n", []),
        # `L.acquire(); x = 1` is one line: the acquire is not before it.
        ("def f():\n    lock.acquire(); x = 1\n", []),
        ("def f():\n    lock.acquire(); y = 2\n    x = 1\n", [("lock", "acquire", "f")]),
        # A one-line `finally: L.release()` was not read as a release.
        ("def f():\n    lock.acquire()\n    try:\n        x = 1\n    finally: lock.release()\n", [("lock", "acquire", "f")]),
        ("def f():\n    lock.acquire()\n    try:\n        y = 2\n    finally: lock.release()\n    x = 1\n", [("lock", "acquire", "f")]),
    ],
)
def test_lines_and_blocks_are_libcsts(code: str, expected):
    ctx = context(code)
    assert held(ctx, statement(ctx, "x = 1")) == expected


CALLERS = """\
class Service:
    def work(self, k):
        with self._lock:
            self._step(k)

    def twice(self, k):
        with self._lock:
            self._step(k)
            self._step(k)

    def _step(self, k):
        self._work(k)

    def _work(self, k):
        x = 1
"""


def test_a_private_helper_holds_the_lock_all_its_callers_hold():
    ctx = context(CALLERS)
    assert held(ctx, statement(ctx, "x = 1")) == [("self._lock", "caller", "_work")]
    assert held(ctx, statement(ctx, "self._work(k)")) == [("self._lock", "caller", "_step")]


@pytest.mark.parametrize(
    "extra",
    [
        "    def sneak(self, k):\n        self._work(k)\n",  # one caller without the lock
        "    def other(self, k):\n        with guard:\n            self._step(k)\n",  # another lock
        "    def later(self, pool):\n        pool.submit(self._work, 1)\n",  # passed around
        "    def later(self, f):\n        f(_work=1)\n",  # any other use of the name (a keyword, LibCST's Name)
    ],
)
def test_a_private_helper_holds_nothing_unless_every_use_is_a_call_under_the_same_lock(extra: str):
    ctx = context(CALLERS + "\n" + extra)
    assert held(ctx, statement(ctx, "x = 1")) == []


def test_helpers_calling_each_other_hold_nothing():
    ctx = context("def _a():\n    _b()\n\ndef _b():\n    _a()\n    x = 1\n")
    assert held(ctx, statement(ctx, "x = 1")) == []


def test_a_public_or_dunder_function_has_no_callers_lock():
    ctx = context("def work():\n    x = 1\n\ndef run():\n    with lock:\n        work()\n")
    assert held(ctx, statement(ctx, "x = 1")) == []
    ctx = context("class C:\n    def __call__(self):\n        x = 1\n\n    def run(self):\n        with lock:\n            self.__call__()\n")
    assert held(ctx, statement(ctx, "x = 1")) == []


def test_guard_of_is_the_innermost_lock():
    ctx = context("def f():\n    with lock:\n        with guard:\n            x = 1\n")
    ref = ctx.guard_of(statement(ctx, "x = 1"))
    assert (ref.code, ref.kind, ref.function.name) == ("guard", "with", "f")
    assert ctx.guard_of(function(ctx, "f").body[0]) is None


def test_held_locks_are_the_locks_a_function_takes_itself():
    ctx = context(
        "def f(self):\n    with lock, open(p):\n        pass\n    self._mutex.acquire()\n    with threading.Lock():\n        pass\n"
        "    def g():\n        with guard:\n            pass\n"
    )
    assert [(r.code, r.kind) for r in ctx.held_locks(function(ctx, "f"))] == [("lock", "with"), ("self._mutex", "acquire")]


DEADLOCK = """\
class Store:
    def __init__(self):
        self._lock = threading.Lock()
        self._data = Store()

    def get(self):
        return 1

    def put(self):
        with self._lock:
            self._data.get()

    def put_again(self):
        with self._lock:
            return self.get()


def helper():
    pass


def run():
    with lock:
        helper()
"""


def test_called_while_holding_finds_the_call_made_under_the_same_lock():
    ctx = context(DEADLOCK)
    call = ctx.called_while_holding(function(ctx, "get"), "self._lock")
    # `self._data.get()` takes another object's lock; `self.get()` is the one.
    assert isinstance(call, ast.Attribute) and ctx.code(call) == "self.get" and call.lineno == len(HEADER.splitlines()) + 15
    call = ctx.called_while_holding(function(ctx, "helper"), "lock")
    assert ctx.code(call) == "helper()"
    assert ctx.called_while_holding(function(ctx, "helper"), "guard") is None  # an RLock: reentrant
    assert ctx.called_while_holding(function(ctx, "helper"), "other_lock") is None


def test_the_parentheses_of_a_with_are_not_the_locks():
    # LibCST: `with (lock):` is the With's parenthesised form; its item is `lock`.
    ctx = context("def f():\n    with (lock):\n        x = 1\n")
    assert held(ctx, statement(ctx, "x = 1")) == [("lock", "with", "f")]
    assert [r.code for r in ctx.held_locks(function(ctx, "f"))] == ["lock"]
