"""``import threading`` where isort (and ruff's ``I`` rules) would put it.

Into the module's standard-library group, in isort's default order: among the plain
``import x`` lines by name, before the group's ``from x import y`` lines (or by module name
among all of them when the group mixes the two, as ``force_sort_within_sections`` does).
A module whose leading imports have no standard-library group gets one of its own, after
the docstring and ``from __future__`` imports, before the third-party and first-party
groups, separated from them by a blank line. A module without leading imports is left to
LibCST's ``AddImportsVisitor`` (after the docstring); after ``from __future__`` imports
and nothing else, it is a group of its own.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node as dotted

_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
_NEW = "threading"


@dataclass
class _Line:
    index: int  # in the module's body
    group: str  # "future" | "stdlib" | "other"
    module: str  # the imported module's dotted name, lower case: isort's sort key
    plain: bool  # ``import x`` (not ``from x import y``)


def _describe(index: int, stmt: cst.CSTNode) -> _Line | None:
    """The import line ``stmt`` (one import statement on its line), else None."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Import):
        module = dotted(small.names[0].name)
        plain = True
    elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
        module = dotted(small.module)
        plain = False
    elif isinstance(small, cst.ImportFrom):
        return _Line(index, "other", "." * len(small.relative), False)
    else:
        return None
    top = module.split(".")[0]
    group = "future" if top == "__future__" else "stdlib" if top in _STDLIB else "other"
    return _Line(index, group, module.lower(), plain)


def _leading_imports(body) -> list[list[_Line]]:
    """The import lines at the top of the module (after the docstring), in groups: a
    blank line, a comment line or a change of kind starts a new group."""
    start = 1 if body and is_docstring(body[0]) else 0
    groups: list[list[_Line]] = []
    for index in range(start, len(body)):
        line = _describe(index, body[index])
        if line is None:
            break
        separated = bool(body[index].leading_lines)
        if not groups or separated or groups[-1][-1].group != line.group:
            groups.append([line])
        else:
            groups[-1].append(line)
    return groups


def is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _position_in(group: list[_Line]) -> int:
    """Index in the module body before which ``import threading`` goes in ``group``."""
    mixed = any(line.plain and any(not earlier.plain for earlier in group[:k]) for k, line in enumerate(group))
    if mixed:  # sorted by module whatever the form
        after = [line for line in group if line.module > _NEW]
    else:
        plain = [line for line in group if line.plain]
        after = [line for line in plain if line.module > _NEW]
        if not after:
            return plain[-1].index + 1 if plain else group[0].index
    return after[0].index if after else group[-1].index + 1


def add_threading_import(module: cst.Module) -> cst.Module:
    """``module`` with ``import threading`` added in its place (see the module docs)."""
    body = list(module.body)
    groups = _leading_imports(body)
    new = cst.parse_statement(f"import {_NEW}" + module.default_newline, config=module.config_for_parsing)
    stdlib = next((g for g in groups if g[0].group == "stdlib"), None)
    if stdlib is not None:
        at = _position_in(stdlib)
        if at == stdlib[0].index:  # first of its group: it takes over the group's spacing and heading
            new = new.with_changes(leading_lines=body[at].leading_lines)
            body[at] = body[at].with_changes(leading_lines=())
    else:
        other = next((g for g in groups if g[0].group == "other"), None)
        future = next((g for g in groups if g[0].group == "future"), None)
        if other is None and future is not None:  # a group of its own after the __future__ imports
            at = future[-1].index + 1
            body.insert(at, new.with_changes(leading_lines=[cst.EmptyLine(indent=False)]))
            if at + 1 < len(body) and not body[at + 1].leading_lines:
                body[at + 1] = body[at + 1].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            return module.with_changes(body=body)
        if other is None:
            context = CodemodContext()
            AddImportsVisitor.add_needed_import(context, _NEW)
            return module.visit(_TopLevelImports(context))
        at = other[0].index
        lead = list(body[at].leading_lines)
        blanks = 0
        while blanks < len(lead) and lead[blanks].comment is None:
            blanks += 1
        new = new.with_changes(leading_lines=lead[:blanks])
        body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine(indent=False), *lead[blanks:]])
    body.insert(at, new)
    after = groups[-1][-1].index + 2  # the first statement after the imports, the new one included
    if after < len(body) and not body[after].leading_lines:
        # Keep code that followed the imports (a new lock) a blank line away from them.
        body[after] = body[after].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    return module.with_changes(body=body)


_STAND_IN = cst.SimpleStatementLine(body=[cst.Pass()])


class _TopLevelImports(AddImportsVisitor):
    """LibCST's AddImportsVisitor, kept to the module's top level, where it reads and adds
    imports: it does not enter function and class bodies (on a large module, entering them
    is most of a rewrite's cost), and it runs without ``transform_module``'s deep copy (it
    needs no metadata)."""

    def visit_Module(self, node: cst.Module) -> None:
        # What it gathers comes from the leading simple statements; bodies stay out.
        super().visit_Module(node.with_changes(body=[s if isinstance(s, cst.SimpleStatementLine) else _STAND_IN for s in node.body]))
        self._entered = {id(node), *(id(s) for s in node.body if isinstance(s, cst.SimpleStatementLine))}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Module) or id(node) in self._entered:
            return super().on_visit(node)
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            super().on_visit(node)  # leave_Import(From) may merge names into it
        return False
