"""FT003's shapes on the standard ``ast``: what a lazily created ``X`` looks like.

A *key* names the state: ``_client`` -> ``(None, "_client")``, ``cls._instance`` ->
``("cls", "_instance")``. The tests meaning "X does not exist yet" (``X is None``, ``not
X``, ``not hasattr(R, "x")``, ``"x" not in R.__dict__``), ``X = X or make()``, and the
assignments of X in a guarded block. ``candidate()`` and ``check()`` both ask these.

Names are read as Python reads them (the ``ast`` NFKC-normalises identifiers, and a
``hasattr`` string is normalised to match): ``cls.ﬁle`` is the state ``cls.file``, where
the LibCST detector compared spellings (and named its lock ``_le_lock``).
"""

from __future__ import annotations

import ast
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ftmigrate.analysis import identifiers_of, walk
from ftmigrate.spans import in_indented_block, simple_line

if TYPE_CHECKING:
    from ftmigrate.analysis import FileContext

Key = tuple  # (receiver or None, name)

_SCOPE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BLOCKS = ("body", "handlers", "cases", "orelse", "finalbody")


def spelled(key: Key) -> str:
    return key[1] if key[0] is None else f"{key[0]}.{key[1]}"


def own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of ``body``, nested blocks included; a nested function or class is
    yielded but not entered (its code is not this body's)."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
            if isinstance(node, _SCOPE):
                continue
        for name in _BLOCKS:
            block = getattr(node, name, None)
            if isinstance(block, list):
                stack.extend(reversed(block))


def identifier(text: str) -> str:
    """``text`` as the ``ast`` spells an identifier (NFKC-normalised)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def key_of(expr: ast.AST | None) -> Key | None:
    """``x`` -> (None, "x"); ``r.x`` -> ("r", "x"); anything else None."""
    if isinstance(expr, ast.Name):
        return (None, expr.id)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return (expr.value.id, expr.attr)
    return None


def _string_key(receiver: ast.AST, value: ast.AST) -> Key | None:
    """(R, "x") for ``R`` and ``"x"`` of ``hasattr(R, "x")`` / ``"x" not in R.__dict__``."""
    if not isinstance(receiver, ast.Name) or not isinstance(value, ast.Constant) or not isinstance(value.value, str):
        return None
    return (receiver.id, identifier(value.value)) if value.value.isidentifier() else None


def checked_key(test: ast.expr) -> Key | None:
    """The key of X in a test meaning "X does not exist yet": ``X is None``, ``not X``,
    ``not hasattr(R, "x")`` and ``"x" not in R.__dict__`` (the last two give ``R.x``)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value is None:
            return key_of(test.left)
        if isinstance(op, ast.NotIn) and isinstance(right, ast.Attribute) and right.attr == "__dict__":
            return _string_key(right.value, test.left)
        return None
    if not isinstance(test, ast.UnaryOp) or not isinstance(test.op, ast.Not):
        return None
    operand = test.operand
    if isinstance(operand, ast.Call):
        if not isinstance(operand.func, ast.Name) or operand.func.id != "hasattr":
            return None
        # LibCST's Arg matchers leave `*`/`**` open: hasattr(*R, "x") matches there too.
        args = [a.value if isinstance(a, ast.Starred) else a for a in operand.args]
        if any(k.arg is not None for k in operand.keywords):
            return None
        args += [k.value for k in operand.keywords]
        return _string_key(args[0], args[1]) if len(args) == 2 else None
    return key_of(operand)


def leftmost(expr: ast.expr) -> ast.expr:
    """``X`` of ``X or a or b`` (however parenthesised)."""
    while isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
        expr = expr.values[0]
    return expr


def or_key(stmt: ast.Assign) -> Key | None:
    """The key of ``X = X or ...`` (one target, X leftmost in the ``or``)."""
    if len(stmt.targets) != 1 or not isinstance(stmt.value, ast.BoolOp) or not isinstance(stmt.value.op, ast.Or):
        return None
    key = key_of(stmt.targets[0])
    return key if key is not None and key_of(leftmost(stmt.value)) == key else None


def stored_when_missing(expr: ast.BoolOp) -> ast.expr:
    """What ``X = X or a`` stores when ``X`` is falsy: ``a``; for ``X or a or b`` the
    ``or`` itself stands for ``a or b`` (only whether it is a call matters to the caller)."""
    first = expr.values[0]
    if len(expr.values) == 2 and not (isinstance(first, ast.BoolOp) and isinstance(first.op, ast.Or)):
        return expr.values[1]
    return expr


def assignments_in(body: list[ast.stmt], key: Key) -> list[ast.AST]:
    """The assignments (``=``, annotated, augmented, walrus) of ``key`` in an ``if`` body,
    nested functions, classes and lambdas excluded, in source order."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets = [node.target]
        else:
            targets = []
        if any(key_of(t) == key for t in targets):
            found.append(node)
        if not isinstance(node, (*_SCOPE, ast.Lambda)):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


def identifiers(node: ast.AST, attributes: bool = True) -> Iterator[str]:
    """Every identifier in ``node`` that LibCST spells as a ``Name`` (``identifiers_of``),
    without attribute and keyword-argument names (nor an import's dotted tail) when
    ``attributes=False``."""
    for n in walk(node):
        kind = type(n)
        if attributes:
            yield from identifiers_of(n)
        elif kind is ast.alias:
            if n.name != "*":
                yield n.name.split(".")[0]
            if n.asname:
                yield n.asname
        elif kind is ast.ImportFrom:
            if n.module:
                yield n.module.split(".")[0]
        elif kind is not ast.Attribute and kind is not ast.keyword:
            yield from identifiers_of(n)


def uses(node: ast.AST, key: Key) -> bool:
    """``node`` mentions the state ``key`` (a global's name anywhere but as an attribute
    or keyword name; ``r.x`` for an attribute)."""
    receiver, name = key
    if receiver is None:
        return name in identifiers(node, attributes=False)
    return any(key_of(n) == key for n in ast.walk(node) if isinstance(n, ast.Attribute))


# --- LibCST's statement lines, on the ast (``spans`` answers them) -----------------
def alone_on_line(ctx: FileContext, stmt: ast.stmt) -> bool:
    """LibCST's ``SimpleStatementLine`` holding just ``stmt``: no ``;`` sibling, not in a
    one-line suite."""
    return in_indented_block(ctx, stmt) and len(simple_line(ctx, stmt)) == 1


def indented(ctx: FileContext, body: list[ast.stmt]) -> bool:
    """The block is indented under its header (LibCST's ``IndentedBlock``), not a one-line
    suite (``if x: a``)."""
    return in_indented_block(ctx, body[0])
