"""FT002's one-call rewrites of a dict: ``if k in d: del d[k]`` -> ``d.pop(k, None)`` and
``if k not in d: d[k] = value`` -> ``d.setdefault(k, value)``.

Whether an ``if`` has such a form is decided on the ``ast`` (``atomic_form``); the new
statement is written on LibCST (``atomic_rewrite``), from the ``if``'s paired LibCST
statement, so its comments are kept."""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import FileContext
from ftmigrate.bindings import dotted
from ftmigrate.fixes import Rewrite

_LITERAL_VALUES = (int, float, complex, str, bytes)


def _pure(expr: ast.expr) -> bool:
    """A literal or a name: evaluating it has no side effects (and once is like twice)."""
    if isinstance(expr, ast.Name):
        return True
    if isinstance(expr, ast.Constant):  # True/False/None are names to LibCST; `...` is not a literal
        return expr.value is None or isinstance(expr.value, (bool, *_LITERAL_VALUES))
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        return _pure(expr.operand)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(not isinstance(e, ast.Starred) and _pure(e) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(k is not None and _pure(k) and _pure(v) for k, v in zip(expr.keys, expr.values))
    return False


def _parenthesized(ctx: FileContext, expr: ast.expr) -> bool:
    """``expr`` is in parentheses of its own (``if (k in d):``), which LibCST keeps on the node."""
    span = ctx.source.span(expr)
    return ctx.source.own_parentheses(*span) != span


def _single_membership(ctx: FileContext, stmt: ast.If, operator: type, container: str) -> ast.expr | None:
    """``key`` when the test is exactly ``key <operator> container`` with a side-effect-free key."""
    test = stmt.test
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], operator)
        and dotted(test.comparators[0]) == container
        and _pure(test.left)
        and not _parenthesized(ctx, test)
    ):
        return test.left
    return None


def _subscript_key(expr: ast.expr, container: str) -> ast.expr | None:
    if isinstance(expr, ast.Subscript) and dotted(expr.value) == container:
        if not isinstance(expr.slice, (ast.Slice, ast.Starred)):
            return expr.slice
    return None


def _only_statement(block: list[ast.stmt]) -> ast.stmt | None:
    return block[0] if len(block) == 1 else None


def atomic_form(ctx: FileContext, stmt: ast.If, container: str) -> str | None:
    """The one dict call equivalent to ``stmt``, if there is one (the caller knows the
    container is a dict):

    - ``if k in d: del d[k]``         -> ``d.pop(k, None)``
    - ``if k not in d: d[k] = value`` -> ``d.setdefault(k, value)`` (value a literal or name)
    """
    if stmt.orelse:
        return None
    action = _only_statement(stmt.body)
    code = ctx.code
    key = _single_membership(ctx, stmt, ast.In, container)
    if key is not None and isinstance(action, ast.Delete) and len(action.targets) == 1:
        deleted = _subscript_key(action.targets[0], container)
        if deleted is not None and ctx.same_code(deleted, key):
            return f"{container}.pop({code(key)}, None)"
    key = _single_membership(ctx, stmt, ast.NotIn, container)
    if key is not None and isinstance(action, ast.Assign) and len(action.targets) == 1:
        stored = _subscript_key(action.targets[0], container)
        if stored is not None and ctx.same_code(stored, key) and _pure(action.value):
            return f"{container}.setdefault({code(key)}, {code(action.value)})"
    return None


def atomic_rewrite(code: str) -> Rewrite:
    """The rewrite of an ``if`` into the statement ``code``, keeping the comments of the
    ``if``: a single end-of-line comment stays at the end of the line, any others become
    lines above it."""

    def rewrite(stmt: cst.CSTNode) -> cst.BaseStatement:
        new = cst.parse_statement(code + "\n")  # the newline is the module's own when written
        inner = stmt.with_changes(leading_lines=())
        comments = m.findall(inner, m.Comment())
        if not comments:
            return new
        trailing = m.findall(inner, m.TrailingWhitespace(comment=m.Comment()))
        if len(comments) == 1 and len(trailing) == 1:
            return new.with_changes(trailing_whitespace=trailing[0].with_changes(whitespace=cst.SimpleWhitespace("  ")))
        return new.with_changes(leading_lines=[cst.EmptyLine(comment=c) for c in comments])

    return rewrite
