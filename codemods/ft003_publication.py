"""FT003's "never publish a half-built object": who else sees the object while it is built.

A lazily created object is *published* when the shared name (``_client``,
``cls._instance``) is assigned: from then on other threads' lock-free fast path returns
it. Code that keeps setting it up after that (``cls._instance.load()``) hands out a
half-built object. ``publication()`` decides whether a guarded block is fine as it is,
can be rewritten to build the object in a local and assign the shared name last, or
cannot be made safe automatically (and why).
"""

from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import FileContext
from ftmigrate.treewalk import find_all

NAME_OR_ATTR = m.Name() | m.Attribute(value=m.Name())

Key = tuple  # (receiver or None, name): `_client` -> (None, "_client"); `cls._instance` -> ("cls", "_instance")


def key_of(expr: cst.CSTNode | None) -> Key | None:
    if isinstance(expr, cst.Name):
        return (None, expr.value)
    if m.matches(expr, m.Attribute(value=m.Name())):
        return (expr.value.value, expr.attr.value)
    return None


def spelled(key: Key) -> str:
    return key[1] if key[0] is None else f"{key[0]}.{key[1]}"


class _Rename(cst.CSTTransformer):
    """Replaces every use of the state ``key`` by the name ``local``, counting them."""

    def __init__(self, key: Key, local: str) -> None:
        super().__init__()
        self.key, self.local, self.count = key, local, 0
        self._not_a_use: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_a_use.add(id(node.attr))  # `obj._client` is not the global `_client`

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_a_use.add(id(node.keyword))

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if self.key[0] is not None and key_of(original) == self.key:
            self.count += 1
            return cst.Name(self.local, lpar=updated.lpar, rpar=updated.rpar)
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if self.key[0] is None and original.value == self.key[1] and id(original) not in self._not_a_use:
            self.count += 1
            return updated.with_changes(value=self.local)
        return updated


def uses(node: cst.CSTNode, key: Key) -> bool:
    renamer = _Rename(key, "_")
    node.visit(renamer)
    return renamer.count > 0


def assignments_in(body: cst.BaseSuite, key: Key) -> list[cst.CSTNode]:
    """The statements of an ``if`` body that assign ``key`` (nested functions excluded)."""
    found: list[cst.CSTNode] = []

    class _Walk(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, cst.Assign):
                targets = [t.target for t in node.targets]
            elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.NamedExpr)):
                targets = [node.target]
            else:
                targets = []
            if any(key_of(t) == key for t in targets):
                found.append(node)
            return not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda))

    body.visit(_Walk())
    return found


@dataclass
class Publication:
    """``reason``: why the block cannot be made to publish last; ``replacement``: the block
    rewritten to build in a local and assign the shared name last (None: nothing to move)."""

    reason: str | None = None
    replacement: cst.If | None = None


def publication(ctx: FileContext, stmt: cst.If, key: Key, functions: dict[str, list[cst.FunctionDef]]) -> Publication:
    """How the guarded ``if`` publishes ``key``, and how to make it publish last.
    ``functions``: the module's functions and methods by name."""
    name, shown = key[1], spelled(key)
    assignments = assignments_in(stmt.body, key)
    later = [s for a in assignments for s in _after(ctx, stmt, a)]
    for s in later:
        for call in find_all(s, m.Call()):
            callee = call.func.value if isinstance(call.func, cst.Name) else (
                call.func.attr.value if isinstance(call.func, cst.Attribute) else None
            )
            if any(find_all(f.body, m.Name(name)) for f in functions.get(callee, ())):
                return Publication(
                    reason=f"`{callee}()` reads `{name}` after it is assigned and before the block ends, so "
                    f"`{shown}` cannot be assigned last; finish building the object before publishing it"
                )
    if not any(uses(s, key) and not _returns(s, key) for s in later):
        return Publication()
    return _localised(ctx, stmt, key, assignments)


def _after(ctx: FileContext, stmt: cst.If, assignment: cst.CSTNode) -> list[cst.CSTNode]:
    """Statements that run after ``assignment`` inside the guarded block."""
    later: list[cst.CSTNode] = []
    child: cst.CSTNode = assignment
    for ancestor in ctx.ancestors(assignment):
        if isinstance(ancestor, (cst.IndentedBlock, cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            index = next(i for i, s in enumerate(ancestor.body) if s is child)
            later += ancestor.body[index + 1 :]
        if ancestor is stmt:
            break
        child = ancestor
    return later


def _localised(ctx: FileContext, stmt: cst.If, key: Key, assignments: list[cst.CSTNode]) -> Publication:
    """``X = make(); X.load()`` -> ``x = make(); x.load(); X = x``, when nothing can skip
    or observe the difference."""
    shown = spelled(key)
    body = stmt.body
    assign = assignments[0]
    line = ctx.parent(assign)
    if (
        len(assignments) != 1
        or not isinstance(assign, cst.Assign)
        or len(assign.targets) != 1
        or not isinstance(body, cst.IndentedBlock)
        or not any(s is line for s in body.body)
        or len(line.body) != 1
    ):
        return Publication(
            reason=f"`{shown}` is used after it is assigned, but not by one plain assignment at the top of the "
            "block, so it cannot be built in a local and assigned last automatically"
        )
    index = next(i for i, s in enumerate(body.body) if s is line)
    later = list(body.body[index + 1 :])
    final_return = later.pop() if later and _returns(later[-1], key) else None
    for s in later:
        if find_all(s, m.Return() | m.Break() | m.Continue() | m.Global() | m.Nonlocal() | m.Del()):
            return Publication(
                reason=f"a `return`, `break`, `del` or scope declaration after `{shown}` is assigned could skip "
                "assigning it last"
            )
        if any(uses(f, key) for f in find_all(s, m.FunctionDef() | m.Lambda() | m.ClassDef())):
            return Publication(reason=f"a nested function or class uses `{shown}` while it is being built")
    local = _fresh_local(ctx, key[1])
    target = assign.targets[0]
    built = line.with_changes(body=[assign.with_changes(targets=[target.with_changes(target=cst.Name(local))])])
    publish = cst.SimpleStatementLine(body=[cst.Assign(targets=[cst.AssignTarget(target=target.target.deep_clone())], value=cst.Name(local))])
    renamer = _Rename(key, local)
    new_body = [*body.body[:index], built, *(s.visit(renamer) for s in later), publish]
    if final_return is not None:
        new_body.append(final_return)
    return Publication(replacement=stmt.with_changes(body=body.with_changes(body=new_body)))


def _returns(stmt: cst.CSTNode, key: Key) -> bool:
    """``return X``: handing out the finished object is not more initialisation."""
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Return(value=NAME_OR_ATTR)])) and key_of(stmt.body[0].value) == key


def _fresh_local(ctx: FileContext, state: str) -> str:
    """``_instance`` -> ``instance``, unless the module uses that name anywhere."""
    stem = state.strip("_") or "obj"
    candidate, n = stem, 1
    while candidate in ctx.identifiers or keyword.iskeyword(candidate) or hasattr(builtins, candidate) or not candidate.isidentifier():
        candidate = f"new_{stem}" if n == 1 else f"new_{stem}{n}"
        n += 1
    return candidate
