"""Which locks are already held where a piece of code runs, answered on the standard ``ast``.

``FileContext`` (``ftmigrate.analysis``) answers through these functions (its
``guard_of``, ``locks_held_at``, ``held_locks`` and ``called_while_holding``).

What counts as a lock *already held* (this docstring is the reference; rule docs point
here). It decides only that code is already locked and so not reported: recognising a
lock by its name is right there, since a miss costs a report, never working code. Which
existing object may *guard a fix* is a different, strict question, answered by
``ftmigrate.threadlocks`` (never by name), and instances count as shared between threads
only for a thread lock each instance carries (``instance_lock_attributes``).
- A lock object is a name or attribute that is
  - bound anywhere in the module to ``threading.Lock/RLock/Condition/Semaphore/
    BoundedSemaphore()`` (or ``multiprocessing``'s, ``_thread.allocate_lock()``, or the
    factory imported by name, ``from threading import Lock as _Lock``), whatever its name:
    ``guard = threading.RLock()``, ``self._mutex = Lock()`` in ``__init__``; or
  - *named* like a lock: its last word is ``lock``, ``rlock``, ``mutex``, ``mtx``, ``sem``,
    ``semaphore``, ``cond``, ``condition``, ``cv``, or a word ending in ``lock`` such as
    ``_instancelock`` (not ``block``, ``clock``, ``unlock``, ``deadlock``...). This covers
    locks imported from other modules (``from .sync import LOCK``) and passed in.
- It is held by code
  - in the body of ``with L:`` (also ``with L as x:`` and ``with a, L:``), for ``L`` like
    ``lock``, ``self._lock``, ``cls._lock``, ``Owner._lock``, ``self._cond``;
  - after ``L.acquire()`` and before ``L.release()`` in the same block, or after an earlier
    ``try`` whose ``finally`` calls ``L.release()``;
  - in the ``try`` body of a ``try/finally`` whose ``finally`` calls ``L.release()``, or a
    helper named like a lock release (``_releaseLock()``, ``_imp.release_lock()``): locked,
    by a lock that cannot be named (so never reused);
  - anywhere in a function decorated with a ``@synchronized``-style helper: a decorator (or
    decorator call) named with the word ``synchronized``, ``synchronised``, ``locked``,
    ``lock``, ``with_lock`` or ``serialized``;
  - anywhere in a private function or method (``_name``, not a dunder) whose every use in
    the module is a call (``_name(...)``, ``self._name(...)``) made while holding the same
    lock; callers may themselves be such helpers (``_read_unlocked`` under ``read()``'s
    ``with self._read_lock:``).
- Not held: code in a function or lambda *defined* under a lock (it runs later), code after
  a release, ``if L.acquire(timeout=...)`` bodies, a private helper also called without
  the lock, under another lock, or passed around (``pool.submit(self._work)``). ``with threading.Lock():`` creates a fresh
  lock on every call and so guards nothing.
- ``Condition``: holding it holds its lock. A ``Semaphore`` counts as a lock, although one
  created with a count above 1 lets several threads in.
- Reentrant (an ``RLock``, or a ``Condition()`` around one): only then may the fixer hold
  an existing (proven) lock across a call into code it cannot see (``is_reentrant_lock``).

Lines and blocks are LibCST's, as before the port: ``L.acquire()`` holds ``L`` for the later
lines of an indented block or of the module, not in a one-line suite (``if x:
L.acquire(); f()``) nor for a statement after it on its own line (``L.acquire(); f()``);
a ``finally`` releases ``L`` by an ``L.release()`` line directly in its indented block
(``ftmigrate.spans`` groups statements into those lines and blocks).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ftmigrate.bindings import (
    _DECORATOR_WORDS,
    FUNCTIONS,
    Function,
    _words,
    dotted,
    iter_function_nodes,
    looks_like_lock_name,
)
from ftmigrate.fixes import LockRef
from ftmigrate.spans import in_indented_block, simple_line

if TYPE_CHECKING:
    from ftmigrate.analysis import FileContext

_WITH = (ast.With, ast.AsyncWith)


def guard_of(ctx: FileContext, node: ast.AST) -> LockRef | None:
    """The lock already held where ``node`` runs, if any (innermost first)."""
    return next(locks_held_at(ctx, node), None)


def locks_held_at(ctx: FileContext, node: ast.AST, _callers_seen: frozenset = frozenset()) -> Iterator[LockRef]:
    """Every lock held where ``node`` runs inside its function, innermost first; last,
    for a private helper, the lock all its callers hold."""
    child = node
    for a in ctx.ancestors(node):
        if isinstance(child, ast.stmt):  # LibCST: `a` holds the block `child` is a line of
            held = _acquired_before(ctx, child)
            if held is not None:
                yield LockRef(ctx.code(held), "acquire", _block_function(ctx, a))
        if isinstance(a, _WITH):
            for item in a.items:
                if ctx.is_lock_expr(item.context_expr):
                    yield LockRef(ctx.code(item.context_expr), "with", ctx.enclosing_function(a))
        elif type(a) is ast.Try and isinstance(child, ast.stmt) and ctx.block_of(child)[1] == "body":
            # "" (after the named ones): `_acquireLock()` / try / finally `_releaseLock()`:
            # locked, by a lock we cannot name.
            for code in _finally_releases(ctx, a):
                yield LockRef(code, "acquire", ctx.enclosing_function(a))
        elif isinstance(a, FUNCTIONS):
            if _synchronized(a):
                yield LockRef("", "decorator", a)
                return
            callers = _callers_lock(ctx, a, _callers_seen)
            if callers is not None:
                yield callers
            return
        elif isinstance(a, (ast.ClassDef, ast.Lambda)):
            return
        child = a


def _synchronized(func: Function) -> bool:
    """A ``@synchronized``-style decorator (or decorator call)."""
    for dec in func.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        last = (dotted(target) or "").rsplit(".", 1)[-1]
        if any(w in _DECORATOR_WORDS for w in _words(last)) or last in _DECORATOR_WORDS:
            return True
    return False


def _block_function(ctx: FileContext, owner: ast.AST) -> Function | None:
    """The function whose code a block of ``owner`` is (LibCST: ``enclosing_function`` of the block)."""
    if isinstance(owner, FUNCTIONS):
        return owner
    if isinstance(owner, (ast.ClassDef, ast.Lambda, ast.Module)):
        return None
    return ctx.enclosing_function(owner)


def _callers_lock(ctx: FileContext, func: Function, seen: frozenset) -> LockRef | None:
    """The lock every caller holds, for a private function or method (``_name``) that is
    used only by calling it, each time while holding the same lock."""
    if func in seen:
        return None  # a cycle of helpers: no caller from outside holds anything
    cache = ctx._callers_locks
    if not seen and func in cache:
        return cache[func]
    found = _find_callers_lock(ctx, func, seen | {func})
    if not seen:
        cache[func] = found
    return found


def _find_callers_lock(ctx: FileContext, func: Function, seen: frozenset) -> LockRef | None:
    name = func.name
    if not name.startswith("_") or name.endswith("__"):
        return None
    held = None
    for ref in ctx.private_names.get(name, ()):
        if ref is func:
            continue
        call = ctx.parent(ref) if isinstance(ref, (ast.Name, ast.Attribute)) else None
        if not (isinstance(call, ast.Call) and call.func is ref):
            return None  # passed around, or another thing of that name: callers unknown
        lock = next(locks_held_at(ctx, call, seen), None)
        if lock is None or (held is not None and lock.code != held.code):
            return None
        held = lock
    return None if held is None else LockRef(held.code, "caller", func)


def _acquired_before(ctx: FileContext, child: ast.AST) -> ast.expr | None:
    """A lock acquired by an earlier line of ``child``'s block (an indented block or the
    module) and not yet released."""
    if not isinstance(child, ast.stmt):
        return None
    owner, field, index = ctx.block_of(child)
    if index == 0:
        return None
    held_before = _block_locks(ctx, owner, field)
    return None if held_before is None else held_before[index]


def _block_locks(ctx: FileContext, owner: ast.AST, field: str) -> list[ast.expr | None] | None:
    """Per statement of the block ``owner.field``: the lock its earlier lines acquired and
    did not release (statements of one line share the answer); None if the block acquires
    nothing. Computed once per block."""
    cache: dict = ctx.memo.setdefault("heldlocks.blocks", {})
    key = (id(owner), field)
    if key in cache:
        return cache[key]
    body = getattr(owner, field)
    answer = None
    if any(_called_method(s, "acquire") is not None for s in body) and in_indented_block(ctx, body[0]):
        answer = []
        held: dict[str, ast.expr] = {}
        line_start = 0
        for i, stmt in enumerate(body):
            if i == line_start:  # a new LibCST line starts: what earlier lines left held
                current = next(iter(held.values()), None)
                line_start = i + len(simple_line(ctx, stmt))
            answer.append(current)
            acquired = _called_method(stmt, "acquire")
            released = _called_method(stmt, "release")
            if acquired is not None:
                held[ctx.code(acquired)] = acquired
            elif released is not None:
                held.pop(ctx.code(released), None)
            elif type(stmt) is ast.Try:  # `L.acquire()` / `try: ... finally: L.release()`
                for code in _finally_releases(ctx, stmt):
                    held.pop(code, None)
    cache[key] = answer
    return answer


def _called_method(stmt: ast.stmt, method: str) -> ast.expr | None:
    """``L`` of a statement ``L.<method>()`` (any arguments)."""
    if type(stmt) is ast.Expr and type(stmt.value) is ast.Call:
        func = stmt.value.func
        if type(func) is ast.Attribute and func.attr == method:
            return func.value
    return None


def _finally_releases(ctx: FileContext, try_: ast.Try) -> list[str]:
    """The locks the ``finally`` of ``try_`` releases: ``L`` of each ``L.release()`` line
    directly in it (an indented block: LibCST did not look into a one-line ``finally:
    L.release()``), then ``""`` if it calls a lock-release helper. Once per ``try``."""
    cache: dict = ctx.memo.setdefault("heldlocks.finally", {})
    codes = cache.get(try_)
    if codes is None:
        codes = []
        if try_.finalbody and in_indented_block(ctx, try_.finalbody[0]):
            codes = [ctx.code(expr) for stmt in try_.finalbody if (expr := _called_method(stmt, "release")) is not None]
        if _calls_lock_release_function(try_.finalbody):
            codes.append("")
        cache[try_] = codes
    return codes


def _calls_lock_release_function(finalbody: list[ast.stmt]) -> bool:
    """The ``finally`` calls a helper that releases a lock: ``_releaseLock()``, ``_imp.release_lock()``."""
    for stmt in finalbody:
        for call in ast.walk(stmt):
            if type(call) is ast.Call:
                func = call.func
                name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
                if name is not None and "release" in _words(name) and looks_like_lock_name(name):
                    return True
    return False


def held_locks(ctx: FileContext, func: Function) -> list[LockRef]:
    """Locks that ``func`` itself takes somewhere in its body: ``with L:`` or ``L.acquire()``."""
    found = []
    for node in iter_function_nodes(func):
        if isinstance(node, _WITH):
            for item in node.items:
                if ctx.is_lock_expr(item.context_expr):
                    found.append(LockRef(ctx.code(item.context_expr), "with", func))
        elif (
            type(node) is ast.Call
            and type(node.func) is ast.Attribute
            and node.func.attr == "acquire"
            and ctx.is_lock_expr(node.func.value)
        ):
            found.append(LockRef(ctx.code(node.func.value), "acquire", func))
    return found


def called_while_holding(ctx: FileContext, func: Function, lock_code: str) -> ast.AST | None:
    """A call of ``func`` in this module made while this lock is held (compared by its
    last name: ``self._lock`` matches ``_lock``), else None.

    Then taking the same lock inside ``func`` would deadlock, unless it is only ever an
    ``RLock``. Calls are those of ``call_sites``; the lock may be held by ``with``,
    ``acquire()``/``release()`` or ``try``/``finally``, in any enclosing block. A lock
    each instance has (``self._lock`` set in ``__init__``) only counts when the method
    is called on the object holding it (``self.get()``, not ``self._data.get()``).
    """
    wanted = lock_code.rsplit(".", 1)[-1]
    if ctx.is_reentrant_lock(wanted):
        return None
    per_instance = None  # the lock is an instance's own: asked only when it matters
    for call in ctx.call_sites(func):
        for held in locks_held_at(ctx, call):
            if not held.code or held.code.rsplit(".", 1)[-1] != wanted:
                continue
            if isinstance(call, ast.Attribute) and "." in held.code and ctx.code(call.value) != held.code.rsplit(".", 1)[0]:
                if per_instance is None:
                    cls = ctx.method_class(func)
                    per_instance = cls is not None and wanted in ctx.class_lock_attrs(cls)[1]
                if per_instance:
                    continue  # `self._data.get()` under `self._lock` takes another object's own lock.
            return call
    return None
