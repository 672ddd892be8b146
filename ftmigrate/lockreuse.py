"""Reusing a lock the code already has, for the lock planner (``ftmigrate.locking``):
which existing lock a group of guards can name and take (a lock attribute of the state's
class, a module-level lock, a local of a closure's owner, proven a ``threading`` lock
wherever it is taken: ``ftmigrate.threadlocks``), and when taking it would deadlock
(a caller already holds it, or the guarded code calls a function that takes it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ftmigrate.analysis import FileContext
from ftmigrate.fixes import Domain, Guard, LockRef
from ftmigrate.sharing import called_functions
from ftmigrate.threadlocks import proven_lock


@dataclass
class Lock:
    """The lock a group of guards takes: a new one, or one the code already has."""

    name: str | None  # new lock's name, None when reusing an existing one
    existing: str | None  # code of an existing lock expression, or its attribute name if ``attribute``
    kind: str = "Lock"
    attribute: bool = False  # an existing lock attribute of the class, reached through the receiver


def expr_for(ctx: FileContext, guard: Guard, lock: Lock) -> str | None:
    """How ``guard``'s function names ``lock``; None if it cannot reach it."""
    if guard.domain.kind in ("class", "instance") and (lock.name is not None or lock.attribute):
        return f"{guard.receiver}.{lock.name or lock.existing}"
    code = lock.name or lock.existing
    if lock.existing is not None:
        root = code.split(".")[0]
        if root in ctx.local_bindings(guard.function):
            return None
    return code


def portable_existing(ctx: FileContext, ref: LockRef, component: list[Guard]) -> Lock | None:
    """An existing lock expression usable by every guard of the component: a lock
    attribute of the state's class (for class and instance state), a module-level lock
    (for any state but closure state), or a local of the closure's owner (for closure state)."""
    if ref.kind == "decorator" or not ref.code:
        return None
    try:
        expr = ast.parse(ref.code.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return None
    domain = component[0].domain
    root = ref.code.split(".")[0]
    if domain.kind in ("class", "instance") and _is_class_lock(ctx, ref, expr, domain):
        lock = Lock(name=None, existing=expr.attr, attribute=True)
        return lock if _proven_everywhere(ctx, lock, component) else None
    if domain.kind == "closure":
        if root not in ctx.local_bindings(domain.owner):  # the lock must be a local of the owner function
            return None
    elif root not in ctx.module_bindings() or (ref.function is not None and root in ctx.local_bindings(ref.function)):
        return None
    lock = Lock(name=None, existing=ref.code)
    return lock if _proven_everywhere(ctx, lock, component) else None


def _proven_everywhere(ctx: FileContext, lock: Lock, component: list[Guard]) -> bool:
    """Every guard of the component can name ``lock``, and there it is a proven thread lock."""
    for g in component:
        expr = expr_for(ctx, g, lock)
        if expr is None or not all(proven_lock(ctx, expr, g.function, stmt) for stmt in (g.stmt, *g.followers)):
            return False
    return True


def _is_class_lock(ctx: FileContext, ref: LockRef, expr: ast.expr, domain: Domain) -> bool:
    """``self._lock`` / ``cls._lock`` / ``Owner._lock``: a lock attribute of ``domain``'s class."""
    if not (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name)):
        return False
    cls = domain.owner
    holder = expr.value.id
    own_receiver = ref.function is not None and ctx.method_class(ref.function) is cls and holder == ctx.first_param(ref.function)
    if holder != cls.name and not own_receiver:
        return False
    class_level, instance_level = ctx.class_lock_attrs(cls)
    return expr.attr in class_level or (domain.kind == "instance" and expr.attr in instance_level)


def caller_deadlock(ctx: FileContext, lock: Lock, component: list[Guard]) -> str | None:
    """Why taking the existing ``lock`` in the component's functions would deadlock (a
    caller already holds it), else None."""
    for g in component:
        call = ctx.called_while_holding(g.function, lock.existing)
        if call is not None:
            shown = f"{g.receiver}.{lock.existing}" if lock.attribute else lock.existing
            return (
                f"`{g.function.name}` is called while `{shown}` is held (line {call.lineno}); "
                "taking that lock again here would deadlock"
            )
    return None


def callee_deadlock(ctx: FileContext, component: list[Guard], lock: Lock) -> str | None:
    """Why holding an existing non-reentrant lock around the guarded code would
    deadlock: the code calls a function of this module that takes the same lock."""
    if lock.existing is None:
        return None
    attr = lock.existing.rsplit(".", 1)[-1]
    if ctx.is_reentrant_lock(attr):
        return None
    by_attr = lock.attribute
    for g in component:
        for callee in called_functions(ctx, g.span, g.function):
            for ref in ctx.held_locks(callee):
                same = ref.code.rsplit(".", 1)[-1] == attr and "." in ref.code if by_attr else ref.code == lock.existing
                if same:
                    return (
                        f"it calls {callee.name}(), which takes `{ref.code}` too; holding that lock here "
                        "would deadlock"
                    )
    return None
