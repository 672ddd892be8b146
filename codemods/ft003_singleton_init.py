"""FT003, the other half of a ``__new__`` singleton: its guarded ``__init__``.

``S()`` runs ``__init__`` on every call, on the one shared instance. A one-time
initialisation guard in it (``if not hasattr(self, "conn"): ...``, ``if self._ready:
return``) is a check-then-act of its own: two threads calling ``S()`` together both pass
the check and initialise twice, one overwriting what the other built and perhaps already
handed out. The fix takes the same lock as the ``__new__`` fix (the same state, so the
planner gives them one lock) around the check and everything it guards: the ``if``, or
for an early ``return`` the ``if`` and the rest of ``__init__``.
"""

from __future__ import annotations

import ast

from codemods.ft003_shapes import indented
from ftmigrate.analysis import FUNCTIONS, FileContext, calls_unknown_code
from ftmigrate.fixes import Domain, Guard


def _mentions_self(test: ast.expr, receiver: str) -> bool:
    """The test asks about the instance: ``self.x``, ``hasattr(self, ...)``, ``self.__dict__``."""
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == receiver:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("hasattr", "getattr"):
            first = node.args[0] if node.args else (node.keywords[0].value if node.keywords else None)
            first = first.value if isinstance(first, ast.Starred) else first
            if isinstance(first, ast.Name) and first.id == receiver:
                return True
    return False


def _returns_only(block: list[ast.stmt]) -> bool:
    return len(block) == 1 and isinstance(block[0], ast.Return) and block[0].value is None


def _docstring(stmt: ast.stmt) -> bool:
    """A string literal statement (LibCST's ``SimpleString``/``ConcatenatedString``)."""
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, (str, bytes))


def init_guard(ctx: FileContext, cls: ast.ClassDef) -> tuple[ast.FunctionDef, ast.If, tuple[ast.stmt, ...]] | None:
    """``(__init__, its one-time guard, the statements after it that it guards)``, if
    ``cls``'s ``__init__`` starts its work with such a guard."""
    init = next((s for s in cls.body if isinstance(s, FUNCTIONS) and s.name == "__init__"), None) if indented(ctx, cls.body) else None
    if init is None or not indented(ctx, init.body):
        return None
    receiver = ctx.first_param(init)
    body = init.body
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.If):
            if stmt.orelse or receiver is None or not _mentions_self(stmt.test, receiver):
                return None
            rest = tuple(body[i + 1 :]) if _returns_only(stmt.body) else ()
            return init, stmt, rest
        if not _docstring(stmt):
            return None  # only a docstring may come before the guard
    return None


def init_guard_fix(ctx: FileContext, cls: ast.ClassDef, state: str, domain: Domain) -> tuple[ast.If, Guard] | None:
    """The ``if`` to report and its Guard, under the lock of the singleton's ``state``."""
    found = init_guard(ctx, cls)
    if found is None:
        return None
    init, stmt, rest = found
    guard = Guard(
        stmt=stmt,
        state=state,
        domain=domain,
        function=init,
        reentrant=any(calls_unknown_code(s) for s in (stmt, *rest)),
        receiver=ctx.first_param(init),
        anchor=state,
        followers=rest,
    )
    return stmt, guard


def message(cls: ast.ClassDef, ctx: FileContext, stmt: ast.If) -> str:
    name = cls.name
    return (
        f"`{name}.__init__` runs on every `{name}()` call of the singleton, and its one-time initialisation "
        f"(`if {ctx.code(stmt.test)}`) is checked without a lock: threads that race on the first calls each run it"
    )
