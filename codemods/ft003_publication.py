"""FT003's "never publish a half-built object": who else sees the object while it is built.

A lazily created object is *published* when the shared name (``_client``,
``cls._instance``) is assigned: from then on other threads' lock-free fast path returns
it. Code that keeps setting it up after that (``cls._instance.load()``) hands out a
half-built object. ``publication()`` decides, on the ``ast``, whether a guarded block is
fine as it is, can be rewritten to build the object in a local and assign the shared name
last, or cannot be made safe automatically (and why). The rewrite itself is LibCST code
(``_Rename``, ``_publish_last``), run on the ``if`` paired with the ``ast`` one.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from codemods.ft003_shapes import (
    Key,
    alone_on_line,
    assignments_in,
    identifiers,
    indented,
    key_of,
    spelled,
    uses,
)
from ftmigrate.analysis import walk
from ftmigrate.spans import simple_line

if TYPE_CHECKING:
    from ftmigrate.analysis import FileContext

Functions = dict  # name -> [ast.FunctionDef | ast.AsyncFunctionDef]: the module's functions and methods
_EXITS = (ast.Return, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.Delete)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass
class Publication:
    """``reason``: why the block cannot be made to publish last; ``replacement``: the block
    rewritten to build in a local and assign the shared name last, as a function of the
    LibCST ``if`` (None: nothing to move)."""

    reason: str | None = None
    replacement: Callable[[cst.CSTNode], cst.BaseStatement] | None = None
    local: str | None = None  # the local the replacement builds the object in


def publication(ctx: FileContext, stmt: ast.If, key: Key, functions: Functions) -> Publication:
    """How the guarded ``if`` publishes ``key``, and how to make it publish last.
    ``functions``: the module's functions and methods by name."""
    name, shown = key[1], spelled(key)
    assignments = assignments_in(stmt.body, key)
    later = [s for a in assignments for s in _after(ctx, stmt, a)]
    for s in later:
        for call in walk(s):
            if not isinstance(call, ast.Call):
                continue
            callee = call.func.id if isinstance(call.func, ast.Name) else (
                call.func.attr if isinstance(call.func, ast.Attribute) else None
            )
            if any(name in identifiers(b) for f in functions.get(callee, ()) for b in f.body):
                return Publication(
                    reason=f"`{callee}()` reads `{name}` after it is assigned and before the block ends, so "
                    f"`{shown}` cannot be assigned last; finish building the object before publishing it"
                )
    if not any(uses(s, key) and not _returns(ctx, s, key) for s in later):
        return Publication()
    return _localised(ctx, stmt, key, assignments)


def _after(ctx: FileContext, stmt: ast.If, assignment: ast.AST) -> list[ast.stmt]:
    """Statements that run after ``assignment`` inside the guarded block."""
    later: list[ast.stmt] = []
    child = assignment
    for ancestor in ctx.ancestors(assignment):
        if isinstance(child, ast.stmt):
            owner, field, index = ctx.block_of(child)
            later += getattr(owner, field)[index + 1 :]
        if ancestor is stmt:
            break
        child = ancestor
    return later


def _lines(ctx: FileContext, stmts: list[ast.stmt]) -> list[list[ast.stmt]]:
    """``stmts`` grouped as LibCST's statement lines (``a; b`` is one line)."""
    grouped: list[list[ast.stmt]] = []
    for s in stmts:
        if grouped and simple_line(ctx, s)[0] is not s:
            grouped[-1].append(s)
        else:
            grouped.append([s])
    return grouped


def _localised(ctx: FileContext, stmt: ast.If, key: Key, assignments: list[ast.AST]) -> Publication:
    """``X = make(); X.load()`` -> ``x = make(); x.load(); X = x``, when nothing can skip
    or observe the difference."""
    shown = spelled(key)
    body = stmt.body
    assign = assignments[0]
    if (
        len(assignments) != 1
        or not isinstance(assign, ast.Assign)
        or len(assign.targets) != 1
        or not indented(ctx, body)
        or not any(s is assign for s in body)
        or not alone_on_line(ctx, assign)
    ):
        return Publication(
            reason=f"`{shown}` is used after it is assigned, but not by one plain assignment at the top of the "
            "block, so it cannot be built in a local and assigned last automatically"
        )
    index = next(i for i, s in enumerate(body) if s is assign)
    later = _lines(ctx, body[index + 1 :])
    final_return = bool(later) and len(later[-1]) == 1 and _returns(ctx, later[-1][0], key)
    if final_return:
        later.pop()
    for line in later:
        if any(isinstance(n, _EXITS) for s in line for n in ast.walk(s)):
            return Publication(
                reason=f"a `return`, `break`, `del` or scope declaration after `{shown}` is assigned could skip "
                "assigning it last"
            )
        if any(uses(f, key) for s in line for f in walk(s) if isinstance(f, _NESTED)):
            return Publication(reason=f"a nested function or class uses `{shown}` while it is being built")
    line_index = len(_lines(ctx, body[:index]))
    local = _fresh_local(ctx, key[1])
    return Publication(replacement=lambda node: _publish_last(node, line_index, key, local, final_return), local=local)


def _returns(ctx: FileContext, stmt: ast.stmt, key: Key) -> bool:
    """``return X`` on a line of its own: handing out the finished object is not more
    initialisation."""
    return isinstance(stmt, ast.Return) and isinstance(stmt.value, (ast.Name, ast.Attribute)) and (
        key_of(stmt.value) == key and alone_on_line(ctx, stmt)
    )


def _fresh_local(ctx: FileContext, state: str) -> str:
    """``_instance`` -> ``instance``, unless the module uses that name anywhere."""
    stem = state.strip("_") or "obj"
    candidate, n = stem, 1
    while candidate in ctx.identifiers or keyword.iskeyword(candidate) or hasattr(builtins, candidate) or not candidate.isidentifier():
        candidate = f"new_{stem}" if n == 1 else f"new_{stem}{n}"
        n += 1
    return candidate


# --- the rewrite, on LibCST ------------------------------------------------------------
class _Rename(cst.CSTTransformer):
    """Replaces every use of the state ``key`` by the name ``local``."""

    def __init__(self, key: Key, local: str) -> None:
        super().__init__()
        self.key, self.local = key, local
        self._not_a_use: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_a_use.add(id(node.attr))  # `obj._client` is not the global `_client`

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_a_use.add(id(node.keyword))

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if self.key[0] is not None and isinstance(original.value, cst.Name) and (original.value.value, original.attr.value) == self.key:
            return cst.Name(self.local, lpar=updated.lpar, rpar=updated.rpar)
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if self.key[0] is None and original.value == self.key[1] and id(original) not in self._not_a_use:
            return updated.with_changes(value=self.local)
        return updated


def _publish_last(stmt: cst.If, index: int, key: Key, local: str, final_return: bool) -> cst.If:
    """The guarded ``if`` with its ``index``-th line ``X = make()`` building ``local``
    instead, the lines after it using ``local``, and ``X = local`` last (before a final
    ``return X``)."""
    body = stmt.body
    line = body.body[index]
    assign = line.body[0]
    target = assign.targets[0]
    built = line.with_changes(body=[assign.with_changes(targets=[target.with_changes(target=cst.Name(local))])])
    publish = cst.SimpleStatementLine(body=[cst.Assign(targets=[cst.AssignTarget(target=target.target.deep_clone())], value=cst.Name(local))])
    later = list(body.body[index + 1 :])
    last = [later.pop()] if final_return else []
    renamer = _Rename(key, local)
    new_body = [*body.body[:index], built, *(s.visit(renamer) for s in later), publish, *last]
    return stmt.with_changes(body=body.with_changes(body=new_body))
