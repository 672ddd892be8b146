"""Which existing objects are proven ``threading`` locks where a fix would take them, and
which locks guard some state elsewhere, on the standard ``ast`` (ftmigrate/threadlocks.py):
exact answers on hand-written modules."""

from __future__ import annotations

import ast
import textwrap

import pytest

from ftmigrate.analysis import FileContext
from ftmigrate.threadlocks import creates, proven_lock, state_guards

MODULE = """\
import asyncio
import threading
from threading import RLock as _RLock

lock = threading.Lock()
door = _RLock()
alock = asyncio.Lock()
twice = threading.Lock()
twice = make_lock()
later = None


def setup():
    global later
    later = threading.Lock()
    x = 1


def outer():
    inner_lock = threading.Lock()

    def closure():
        x = 1
    return closure


class Owner:
    _lock = threading.Lock()

    def __init__(self):
        x = 1
        self._mutex = threading.Lock()
        x = 2

    def method(self):
        x = 1

    @classmethod
    def build(cls):
        x = 1

    def __new__(cls):
        x = 1

    def local(self):
        mine = threading.Lock()
        x = 1


class Restored:
    def __init__(self):
        self._state_lock = threading.Lock()

    def __setstate__(self, state):
        self.__dict__.update(state)

    def method(self):
        x = 1


class Conditional:
    def __init__(self, safe):
        if safe:
            self._cond_lock = threading.Lock()

    def method(self):
        x = 1
"""


def context(code: str = MODULE) -> FileContext:
    text = textwrap.dedent(code)
    return FileContext(ast.parse(text), text)


def function(ctx: FileContext, name: str, cls: str | None = None):
    scope = ctx.tree if cls is None else next(n for n in ctx.nodes if isinstance(n, ast.ClassDef) and n.name == cls)
    return next(n for n in ast.walk(scope) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)


def first_statement(func, source: str = "x = 1") -> ast.stmt:
    return next(s for s in ast.walk(func) if isinstance(s, ast.stmt) and ast.unparse(s) == source)


@pytest.mark.parametrize(
    "code, cls, name, expected",
    [
        ("lock", "Owner", "method", True),
        ("door", "Owner", "method", True),  # the factory imported by name
        ("alock", "Owner", "method", False),  # an asyncio lock
        ("twice", "Owner", "method", False),  # also bound to something else
        ("later", "Owner", "method", False),  # bound to a lock only inside a function
        ("inner_lock", None, "closure", True),  # a closure's lock, bound in the enclosing body
        ("mine", "Owner", "local", False),  # a function's own lock: a new one per call
        ("self._lock", "Owner", "method", True),  # a class attribute through self
        ("Owner._lock", None, "setup", True),  # through the class
        ("cls._lock", "Owner", "build", True),
        ("self._mutex", "Owner", "method", True),  # bound by __init__'s own body
        ("self._mutex", "Owner", "build", False),  # a class method: no instance
        ("self._mutex", "Owner", "__new__", False),  # may bypass __init__
        ("self._state_lock", "Restored", "method", False),  # __setstate__ restores without it
        ("self._cond_lock", "Conditional", "method", False),  # bound only under an if
        ("self.pool._lock", "Owner", "method", False),  # another object's attribute
        ("nolock", "Owner", "method", False),
        ("lock(", "Owner", "method", False),  # not an expression
    ],
)
def test_proven_lock(code: str, cls: str | None, name: str, expected: bool):
    ctx = context()
    func = function(ctx, name, cls)
    assert proven_lock(ctx, code, func, first_statement(func)) is expected


def test_an_instance_lock_in_init_exists_only_after_its_assignment():
    ctx = context()
    init = function(ctx, "__init__", "Owner")
    assert proven_lock(ctx, "self._mutex", init, first_statement(init, "x = 1")) is False
    assert proven_lock(ctx, "self._mutex", init, first_statement(init, "x = 2")) is True
    # The statement that creates the lock cannot take it.
    assert proven_lock(ctx, "self._mutex", init, first_statement(init, "self._mutex = threading.Lock()")) is False


def test_a_one_line_class_body_proves_nothing():
    # LibCST kept `class C: _lock = ...` as a one-line suite, which it did not look into.
    ctx = context("import threading\nclass C: _lock = threading.Lock()\ndef f():\n    x = 1\n")
    func = function(ctx, "f")
    assert proven_lock(ctx, "C._lock", func, func.body[0]) is False
    ctx = context("import threading\nclass C:\n    _lock = threading.Lock()\ndef f():\n    x = 1\n")
    assert proven_lock(ctx, "C._lock", function(ctx, "f"), function(ctx, "f").body[0]) is True


def test_creates():
    ctx = context()
    init = function(ctx, "__init__", "Owner")
    assert creates(ctx, init, "self._mutex") is True
    assert creates(ctx, init, "self._lock") is False
    assert creates(ctx, ctx.tree, "later") is True


GUARDED = """\
import threading
lock = threading.Lock()
counter = 0


def bump():
    global counter
    with lock:
        counter += 1


def shadow(counter):
    with lock:
        counter += 1


def attribute(obj):
    with lock:
        obj.counter += 1


class Service:
    _lock = threading.Lock()
    total = 0

    def __init__(self):
        self._mutex = threading.Lock()
        self.hits = 0

    def hit(self):
        with self._mutex, open("f"):
            self.hits += 1

    def add(self):
        with Service._lock:
            Service.total += 1

    @classmethod
    def reset(cls):
        with cls._lock:
            cls.total = 0

    @staticmethod
    def other(svc):
        with svc._mutex:
            svc.hits += 1
"""


def guards(kind: str, owner_name: str | None, state: str) -> list[tuple[str, str]]:
    ctx = context(GUARDED)
    owner = next((n for n in ctx.nodes if isinstance(n, ast.ClassDef) and n.name == owner_name), None)
    return [(ref.code, ref.function.name) for ref in state_guards(ctx, kind, owner, state)]


def test_state_guards():
    # A global under a lock; an attribute spelled like it counts as well (LibCST's Name
    # nodes), a parameter of that name does not mean the global.
    assert guards("module", None, "counter") == [("lock", "bump"), ("lock", "attribute")]
    assert guards("instance", "Service", "hits") == [("self._mutex", "hit")]
    assert guards("class", "Service", "total") == [("Service._lock", "add"), ("cls._lock", "reset")]
    assert guards("instance", "Service", "total") == []
    assert guards("closure", "Service", "hits") == []
