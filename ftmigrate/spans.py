"""How far back a critical section reaches: the whole update of shared state, not just
its last statement.

An update is often split over adjacent statements of one block: the value is read into a
local, changed, and written back (``n = self.count; n += 1; self.count = n``), or read
for the caller right before the increment (``old = counter; counter += 1``). Locking only
the write lets two threads read the same value. ``update_span`` walks back from the write
over the adjacent simple assignments to locals that read the state or compute what the
write (or a statement already taken) uses, and starts the critical section at the first
of them that reads the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from ftmigrate.treewalk import find_all, walk


@dataclass(frozen=True)
class Span:
    leaders: tuple[cst.CSTNode, ...] = ()  # statements before the write that join its critical section
    fed: bool = False  # a value read from the state flows into the write (a split read-modify-write)


def _assigned_locals(stmt: cst.CSTNode) -> set[str] | None:
    """Names a one-statement line ``x = ...``, ``x += ...``, ``x: T = ...`` binds; None if
    it is anything else (which ends the walk)."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and all(isinstance(t.target, cst.Name) for t in small.targets):
        return {t.target.value for t in small.targets}
    if isinstance(small, (cst.AugAssign, cst.AnnAssign)) and isinstance(small.target, cst.Name):
        if isinstance(small, cst.AnnAssign) and small.value is None:
            return None
        return {small.target.value}
    return None


def _names(node: cst.CSTNode) -> set[str]:
    return {n.value for n in walk(node) if isinstance(n, cst.Name)}


def update_span(block: cst.CSTNode | None, stmt: cst.CSTNode, reads: m.BaseMatcherNode) -> Span:
    """The statements before ``stmt`` (in ``block``, its parent) that belong to its update
    of the state ``reads`` matches."""
    if not isinstance(block, cst.IndentedBlock):
        return Span()
    body = block.body
    index = next((i for i, s in enumerate(body) if s is stmt), None)
    if index is None:
        return Span()
    needed = _names(stmt)
    start, fed = None, False
    for j in range(index - 1, -1, -1):
        assigned = _assigned_locals(body[j])
        if assigned is None:
            break
        reads_state = bool(find_all(body[j], reads))
        feeds = bool(assigned & needed)
        if not (reads_state or feeds):
            break
        if feeds:
            needed |= _names(body[j])
        if reads_state:
            start = j
            fed |= feeds
    if start is None:
        return Span()
    return Span(leaders=tuple(body[start:index]), fed=fed)


def written_back(ctx, node: cst.CSTNode, kinds: type | tuple[type, ...]) -> cst.BaseAssignTargetExpression | None:
    """The target of ``node`` (one of ``kinds``: ``cst.Name``, ``cst.Attribute``...) when
    ``node`` ends a split read-modify-write: ``x = local`` or ``x = <binary operation>``
    writing a value computed from ``x``'s own value, read by the adjacent statements before
    it (``n = self.count; n += 1; self.count = n``). ``ctx``: the file's ``FileContext``."""
    if not (type(node) is cst.Assign and len(node.targets) == 1 and isinstance(node.value, (cst.Name, cst.BinaryOperation))):
        return None
    target = node.targets[0].target
    if not isinstance(target, kinds):
        return None
    stmt = ctx.statement_of(node)
    return target if update_span(ctx.parent(stmt), stmt, m.MatchIfTrue(target.deep_equals)).fed else None
