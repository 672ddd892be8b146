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

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import FileContext, calls_unknown_code
from ftmigrate.locking import Domain, Guard


def _mentions_self(test: cst.BaseExpression, receiver: str) -> bool:
    """The test asks about the instance: ``self.x``, ``hasattr(self, ...)``, ``self.__dict__``."""
    holder = m.Name(receiver)
    return bool(
        m.findall(test, m.Attribute(value=holder))
        or m.findall(test, m.Call(func=m.Name("hasattr") | m.Name("getattr"), args=[m.Arg(value=holder), m.ZeroOrMore()]))
    )


def _returns_only(block: cst.BaseSuite) -> bool:
    body = block.body
    if isinstance(block, cst.IndentedBlock):
        if len(body) != 1 or not isinstance(body[0], cst.SimpleStatementLine):
            return False
        body = body[0].body
    return len(body) == 1 and isinstance(body[0], cst.Return) and body[0].value is None


def init_guard(ctx: FileContext, cls: cst.ClassDef) -> tuple[cst.FunctionDef, cst.If, tuple[cst.CSTNode, ...]] | None:
    """``(__init__, its one-time guard, the statements after it that it guards)``, if
    ``cls``'s ``__init__`` starts its work with such a guard."""
    init = next(
        (s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"),
        None,
    ) if isinstance(cls.body, cst.IndentedBlock) else None
    if init is None or not isinstance(init.body, cst.IndentedBlock):
        return None
    receiver = ctx.first_param(init)
    body = list(init.body.body)
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.If):
            if stmt.orelse is not None or receiver is None or not _mentions_self(stmt.test, receiver):
                return None
            rest = tuple(body[i + 1 :]) if _returns_only(stmt.body) else ()
            return init, stmt, rest
        if not m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())])):
            return None  # only a docstring may come before the guard
    return None


def init_guard_fix(ctx: FileContext, cls: cst.ClassDef, state: str, domain: Domain) -> tuple[cst.If, Guard] | None:
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


def message(cls: cst.ClassDef, ctx: FileContext, stmt: cst.If) -> str:
    name = cls.name.value
    return (
        f"`{name}.__init__` runs on every `{name}()` call of the singleton, and its one-time initialisation "
        f"(`if {ctx.code(stmt.test)}`) is checked without a lock: threads that race on the first calls each run it"
    )
