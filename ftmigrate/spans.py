"""How far back a critical section reaches: the whole update of shared state, not just
its last statement.

An update is often split over adjacent statements of one block: the value is read into a
local, changed, and written back (``n = self.count; n += 1; self.count = n``), or read
for the caller right before the increment (``old = counter; counter += 1``). Locking only
the write lets two threads read the same value. ``update_span`` walks back from the write
over the adjacent simple assignments to locals that read the state or compute what the
write (or a statement already taken) uses, and starts the critical section at the first
of them that reads the state.

Statements are grouped as LibCST grouped them (the rewriter still works on LibCST's
lines), and this module is the one place that answers that on ``ast``: a *line* is the
statements of one ``a; b`` (``simple_line``), and a block is *indented* unless it is a
one-line suite such as ``if x: a; b`` (``in_indented_block``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ftmigrate.bindings import identifier_nodes, identifiers_of

if TYPE_CHECKING:
    from ftmigrate.analysis import FileContext

COMPOUND_STATEMENTS = tuple(
    getattr(ast, name)
    for name in (
        "If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match",
        "FunctionDef", "AsyncFunctionDef", "ClassDef",
    )
    if hasattr(ast, name)
)


@dataclass(frozen=True)
class Span:
    leaders: tuple[ast.stmt, ...] = ()  # statements before the write that join its critical section
    fed: bool = False  # a value read from the state flows into the write (a split read-modify-write)


def in_indented_block(ctx: FileContext, stmt: ast.stmt) -> bool:
    """``stmt``'s block is what LibCST calls an ``IndentedBlock``, or the module's body:
    not a one-line suite (``if x: a; b``, ``def f(): return 1``), whose first statement
    does not start its line."""
    owner, field, _ = ctx.block_of(stmt)
    return isinstance(owner, ast.Module) or ctx.source.starts_line(getattr(owner, field)[0])


def _same_line(before: ast.stmt, after: ast.stmt) -> bool:
    """``before; after``: two simple statements of one LibCST line (adjacent in a block)."""
    return after.lineno == before.end_lineno and not isinstance(before, COMPOUND_STATEMENTS) and not isinstance(after, COMPOUND_STATEMENTS)


def simple_line(ctx: FileContext, stmt: ast.stmt) -> tuple[ast.stmt, ...]:
    """The statements of the LibCST ``SimpleStatementLine`` (or one-line suite) holding
    ``stmt`` (``a; b`` gives both), in order; ``(stmt,)`` for a compound statement."""
    if isinstance(stmt, COMPOUND_STATEMENTS):
        return (stmt,)
    owner, field, index = ctx.block_of(stmt)
    body = getattr(owner, field)
    start = index
    while start > 0 and _same_line(body[start - 1], body[start]):
        start -= 1
    end = index
    while end + 1 < len(body) and _same_line(body[end], body[end + 1]):
        end += 1
    return tuple(body[start : end + 1])


def _assigned_locals(stmt: ast.stmt) -> set[str] | None:
    """Names a one-statement line ``x = ...``, ``x += ...``, ``x: T = ...`` binds; None if
    it is anything else (which ends the walk; the caller checks it is alone on its line)."""
    if type(stmt) is ast.Assign and all(type(t) is ast.Name for t in stmt.targets):
        return {t.id for t in stmt.targets}
    if type(stmt) in (ast.AugAssign, ast.AnnAssign) and type(stmt.target) is ast.Name:
        if type(stmt) is ast.AnnAssign and stmt.value is None:
            return None
        return {stmt.target.id}
    return None


def _names(statements: tuple[ast.stmt, ...] | list[ast.stmt]) -> set[str]:
    """Every identifier in the statements (LibCST's ``Name`` nodes: attribute names too)."""
    return {name for name, _ in identifier_nodes(list(statements))}


def _reads(stmt: ast.stmt, reads: Callable[[ast.AST], bool]) -> bool:
    return any(reads(node) for node in ast.walk(stmt))


def update_span(ctx: FileContext, stmt: ast.stmt, reads: Callable[[ast.AST], bool]) -> Span:
    """The statements before ``stmt`` (in its block) that belong to its update of the
    state ``reads`` holds for. As with LibCST: only in an indented block (not the module's
    body, not a one-line suite), ``stmt`` standing for its whole line (``a; b``), and only
    earlier lines of one statement."""
    owner, field, _ = ctx.block_of(stmt)
    if isinstance(owner, ast.Module) or not in_indented_block(ctx, stmt):
        return Span()
    body = getattr(owner, field)
    line = simple_line(ctx, stmt)
    index = ctx.block_of(line[0])[2]
    needed = _names(line)
    start, fed = None, False
    for j in range(index - 1, -1, -1):
        assigned = _assigned_locals(body[j])
        if assigned is None or (j > 0 and _same_line(body[j - 1], body[j])):
            break
        reads_state = _reads(body[j], reads)
        feeds = bool(assigned & needed)
        if not (reads_state or feeds):
            break
        if feeds:
            needed |= _names((body[j],))
        if reads_state:
            start = j
            fed |= feeds
    if start is None:
        return Span()
    return Span(leaders=tuple(body[start:index]), fed=fed)


def _plain_value(value: ast.expr) -> bool:
    """``local``, ``a + b``, or ``True``/``False``/``None`` (names to LibCST)."""
    if type(value) is ast.Constant:
        return value.value is True or value.value is False or value.value is None
    return isinstance(value, (ast.Name, ast.BinOp))


def written_back(ctx: FileContext, node: ast.AST, kinds: type | tuple[type, ...]) -> ast.expr | None:
    """The target of ``node`` (one of ``kinds``: ``ast.Name``, ``ast.Attribute``...) when
    ``node`` ends a split read-modify-write: ``x = local`` or ``x = <binary operation>``
    writing a value computed from ``x``'s own value, read by the adjacent statements before
    it (``n = self.count; n += 1; self.count = n``). ``ctx``: the file's ``FileContext``."""
    if not (type(node) is ast.Assign and len(node.targets) == 1 and _plain_value(node.value)):
        return None
    target = node.targets[0]
    if not isinstance(target, kinds):
        return None
    return target if update_span(ctx, node, equal_to(ctx, target)).fed else None


def equal_to(ctx: FileContext, target: ast.expr) -> Callable[[ast.AST], bool]:
    """LibCST's ``target.deep_equals`` as a test of any node (a ``reads`` predicate): the
    same type written the same way (``ctx.same_code``); for a name, also every other node
    spelling it (``obj.x``'s attribute, a keyword, a def: LibCST ``Name`` nodes)."""
    kind = type(target)
    if kind is ast.Name:
        name = target.id
        return lambda other: ctx.same_code(other, target) if type(other) is ast.Name else name in identifiers_of(other)
    return lambda other: type(other) is kind and ctx.same_code(other, target)


def spelling(name: str) -> Callable[[ast.AST], bool]:
    """LibCST's matcher ``m.Name(name)`` as a test of any node (a ``reads`` predicate): a
    node that spells ``name`` as one of LibCST's ``Name`` nodes, parenthesised or not
    (``x``, ``(x)``, ``obj.x``'s attribute, ``f(x=1)``'s keyword, ``def x``...)."""
    return lambda node: name in identifiers_of(node)
