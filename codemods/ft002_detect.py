"""FT002's detection on the ``ast``: which containers an ``if`` tests and then changes, and
the statements that belong to the same critical section.

LibCST groups the small statements of one line (``a; b``) into one ``SimpleStatementLine``;
the ``ast`` lists them one by one. The critical section is counted in such lines, as before
(``lines``, by ``spans.simple_line``)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from ftmigrate.analysis import FileContext
from ftmigrate.bindings import NESTED_SCOPES, dotted, identifiers_of, walk
from ftmigrate.spans import simple_line

# Methods that add or remove members of a list, set, dict or deque.
MUTATORS = frozenset(
    {
        "append", "add", "insert", "update", "extend", "remove", "pop", "discard", "setdefault", "clear",
        "popitem", "appendleft", "extendleft", "popleft", "difference_update", "intersection_update",
        "symmetric_difference_update",
    }
)

_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
Line = tuple[ast.stmt, ...]


def own_nodes(roots: Sequence[ast.AST]) -> list[ast.AST]:
    """``roots`` and every node below them in source order, not descending into nested
    functions, classes or lambdas (a root that is one is listed alone)."""
    return [node for root in roots for node in ([root] if isinstance(root, NESTED_SCOPES) else walk(root, prune=NESTED_SCOPES))]


def lines(ctx: FileContext, block: Sequence[ast.stmt]) -> list[Line]:
    """The statements of ``block`` (a block, or its part from a statement that starts a
    line) in LibCST's lines (``a; b`` is one)."""
    out: list[Line] = []
    i = 0
    while i < len(block):
        out.append(simple_line(ctx, block[i]))
        i += len(out[-1])
    return out


def branches(ctx: FileContext, stmt: ast.If) -> tuple[list[ast.If], list[ast.stmt] | None]:
    """The ``if`` and its ``elif``s, and the ``else`` block (None without one)."""
    links = [stmt]
    while len(links[-1].orelse) == 1 and ctx.is_elif(links[-1].orelse[0]):
        links.append(links[-1].orelse[0])
    return links, links[-1].orelse or None


def tested(test: ast.expr) -> list[ast.expr]:
    """Containers a test asks about: ``x in c``, ``x not in c``, ``c.get(k)``."""
    nodes = walk(test)
    found = [c for node in nodes if isinstance(node, ast.Compare) for op, c in zip(node.ops, node.comparators) if isinstance(op, (ast.In, ast.NotIn))]
    found += [
        node.func.value for node in nodes
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
    ]
    return found


def mutations(roots: Sequence[ast.AST]) -> Iterator[tuple[ast.expr, ast.AST]]:
    """(container, node) for each change of a container in ``roots`` (not in nested
    functions): ``c.append(x)``, ``c[k] = v``, ``c[k] += 1``, ``del c[k]``."""
    for node in own_nodes(roots):
        kind = type(node)
        if kind is ast.Call:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in MUTATORS:
                yield func.value, node
        elif kind is ast.Assign:
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    yield target.value, node
        elif (kind is ast.AugAssign or kind is ast.AnnAssign) and isinstance(node.target, ast.Subscript):
            yield node.target.value, node
        elif kind is ast.Delete:
            # LibCST: ``del a[k], b[k]`` is one Tuple target; ``del (a[k], b[k])`` too.
            targets = node.targets
            if len(targets) == 1 and isinstance(targets[0], ast.Tuple):
                targets = targets[0].elts
            for target in targets:
                if isinstance(target, ast.Subscript):
                    yield target.value, node


def changed_in(roots: Sequence[ast.AST]) -> set[str]:
    return {dotted(c) for c, _ in mutations(roots)} - {None}


def _exits(block: list[ast.stmt]) -> bool:
    """The block always leaves: it ends with ``return``, ``raise``, ``continue`` or ``break``."""
    return isinstance(block[-1], _EXITS)


@dataclass(frozen=True)
class CheckThenChange:
    """A container an ``if`` tests and then changes, and the lines after the ``if`` that
    belong to the same critical section (``if x in seen: return`` / ``seen.add(x)``)."""

    code: str
    followers: tuple[Line, ...] = ()


def checked_then_changed(ctx: FileContext, stmt: ast.If, after: Sequence[Line] = ()) -> list[CheckThenChange]:
    """Containers that a test of the ``if`` chain asks about and that the branch it
    guards, a later ``elif``/``else`` branch, or -- when that branch always leaves -- a
    line after the ``if`` then changes."""
    links, orelse = branches(ctx, stmt)
    asked = [[code for code in map(dotted, tested(link.test)) if code is not None] for link in links]
    if not any(asked):
        return []  # no test asks about a container: nothing to walk the branches for
    blocks = [link.body for link in links] + ([orelse] if orelse is not None else [])
    changed = [changed_in(block) for block in blocks]
    changed_after = [changed_in(line) for line in after] if orelse is None else []
    found: dict[str, CheckThenChange] = {}
    for i, link in enumerate(links):
        later = set().union(*changed[i:])
        for code in asked[i]:
            if _exits(link.body) and any(code in c for c in changed_after):
                last = max(k for k, c in enumerate(changed_after) if code in c)
                found[code] = CheckThenChange(code, tuple(after[: last + 1]))
            elif code in later and code not in found:
                found[code] = CheckThenChange(code)
    return list(found.values())


def lines_after(ctx: FileContext, stmt: ast.stmt) -> list[Line]:
    """The lines after ``stmt`` in its block (none at module level)."""
    owner, field, index = ctx.block_of(stmt)
    if isinstance(owner, ast.Module):
        return []
    block = getattr(owner, field)
    return lines(ctx, block[index + 1 :])


def reads_any(codes: set[str]) -> Callable[[ast.AST], bool]:
    """A test of a node for a read of one of the containers ``codes``, as LibCST's Name and
    Attribute nodes spell them (a name, an attribute chain, or any identifier)."""
    return lambda node: dotted(node) in codes or any(name in codes for name in identifiers_of(node))


def takes_lock(ctx: FileContext, stmts: Sequence[ast.stmt]) -> str | None:
    """A lock the statements take themselves (``with lock:`` or ``lock.acquire()``)."""
    for node in own_nodes(stmts):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if ctx.is_lock_expr(item.context_expr):
                    return ctx.code(item.context_expr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "acquire"
            and ctx.is_lock_expr(node.func.value)
        ):
            return ctx.code(node.func.value)
    return None
