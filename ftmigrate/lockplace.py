"""Where a new lock is defined, decided on the ``ast``: in the body of the module, class or
closure-owning function that holds the state, counted in LibCST's lines (``a; b`` is one
line: the writer inserts between lines), which the planner gets as ``units``: for every
line of the body, the ``ast`` statements it holds.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from ftmigrate.analysis import FileContext, top_level_bindings
from ftmigrate.fixes import Domain
from ftmigrate.spans import COMPOUND_STATEMENTS, in_indented_block

Unit = Sequence[ast.stmt]  # the statements of one line (one compound statement alone)


def body_of(ctx: FileContext, domain: Domain) -> list[ast.stmt] | None:
    """The statements of the body a new lock for ``domain`` goes in; None for a one-line
    body (``class C: x = 1``), where no statement can be added."""
    if domain.kind == "module":
        return ctx.tree.body
    body = domain.owner.body
    return body if in_indented_block(ctx, body[0]) else None


def is_docstring(unit: Unit) -> bool:
    """A line holding only a string (what LibCST's ``SimpleString`` parses)."""
    return (
        len(unit) == 1
        and isinstance(unit[0], ast.Expr)
        and isinstance(unit[0].value, ast.Constant)
        and isinstance(unit[0].value.value, (str, bytes))
    )


def _simple(unit: Unit) -> bool:
    return not isinstance(unit[0], COMPOUND_STATEMENTS)


def _imports_threading(unit: Unit) -> bool:
    for stmt in unit:
        if isinstance(stmt, ast.Import) and any(a.name == "threading" for a in stmt.names):
            return True
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "threading":
            return True
    return False


def import_block_end(units: list[Unit]) -> int:
    """Where AddImportsVisitor puts new imports: after the docstring and leading imports."""
    i = 1 if units and is_docstring(units[0]) else 0
    while i < len(units) and _simple(units[i]) and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in units[i]):
        i += 1
    return i


def insert_index(domain: Domain, units: list[Unit], anchor: str) -> int:
    """Index of the line after which the new lock is defined (-1: at the top).

    Right after the state's own assignment when that is a simple statement; before the
    compound statement (``if __name__ == ...``, ``try``) that assigns it otherwise, so the
    lock exists before any code in that block can run; after the docstring and imports
    (including an existing threading import) when the body never assigns the state.
    """
    top = 1 if units and is_docstring(units[0]) else 0
    if domain.kind == "module":
        top = import_block_end(units)
        for i, unit in enumerate(units):
            if _imports_threading(unit):
                top = max(top, i + 1)
    for i, unit in enumerate(units):
        if any(anchor in top_level_bindings(stmt) for stmt in unit):
            position = i if _simple(unit) else i - 1
            return max(position, top - 1)
    return top - 1


def lock_index(domain: Domain, units: list[Unit], anchors) -> int:
    """Where a lock for several states goes: after the last of their assignments when
    only call-free simple statements lie in between (no code can run before the lock
    exists), else after the first (every function using the lock runs after it)."""
    indexes = sorted(insert_index(domain, units, anchor) for anchor in anchors)
    between = units[indexes[0] + 1 : indexes[-1] + 1]
    if all(_simple(u) and not any(isinstance(n, ast.Call) for s in u for n in ast.walk(s)) for u in between):
        return indexes[-1]
    return indexes[0]
