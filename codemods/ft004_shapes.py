"""FT004's shapes on the standard ``ast``, one definition each for its detector (``check``)
and its necessary condition (``candidate``): what a read-modify-write of an item or
attribute looks like, and which attributes a method writes through its receiver.

Expressions are compared by a ``Same`` test: the detector passes the file's exact one
(``FileContext.same_code``: LibCST's ``deep_equals``, source text and parentheses), the
candidate the looser ``same_structure`` (no ``FileContext`` there), so whatever the
detector accepts the candidate accepts too.
"""

from __future__ import annotations

import ast
from typing import Callable, Iterator

from ftmigrate.analysis import binop_operands, call_arguments

Same = Callable[[ast.AST, ast.AST], bool]

ITEM_OR_ATTRIBUTE = (ast.Attribute, ast.Subscript)

# Methods that run before the object (or class) can have been handed to another thread.
CLASS_CREATION = frozenset({"__init_subclass__", "__set_name__"})
CONSTRUCTORS = frozenset({"__init__", "__post_init__", "__new__", "__setstate__"}) | CLASS_CREATION


def same_structure(a: object, b: object) -> bool:
    """Same expression, load/store context aside (looser than ``FileContext.same_code``:
    parentheses, quotes and spacing are not compared)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, ast.AST):
        return all(same_structure(getattr(a, f, None), getattr(b, f, None)) for f in a._fields if f != "ctx")
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same_structure, a, b))
    return a == b


def only_argument(call: ast.Call) -> ast.expr | None:
    """The one argument of ``call`` (``*x``/``**x`` unwrapped), if it has exactly one
    that is not ``name=value``."""
    found = call_arguments(call)
    return found[0][1] if len(found) == 1 and found[0][0] is None else None


def is_get_of(expr: ast.expr, target: ast.expr, same: Same) -> bool:
    """``d.get(k, ...)`` for the target ``d[k]``."""
    if not isinstance(target, ast.Subscript) or isinstance(target.slice, ast.Slice):
        return False
    if not (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and same(expr.func.value, target.value)
    ):
        return False
    found = call_arguments(expr)
    return bool(found) and found[0][0] is None and same(found[0][1], target.slice)


def rmw_target(node: ast.AST, same: Same) -> ast.expr | None:
    """The item or attribute ``node`` reads, modifies and writes back: ``d[k] += 1``,
    ``o.a = o.a + 1`` or ``d[k] = d.get(k, 0) + 1``."""
    if isinstance(node, ast.AugAssign):
        return node.target if isinstance(node.target, ITEM_OR_ATTRIBUTE) else None
    if type(node) is ast.Assign and len(node.targets) == 1 and isinstance(node.value, ast.BinOp):
        target = node.targets[0]
        if isinstance(target, ITEM_OR_ATTRIBUTE) and any(
            same(operand, target) or is_get_of(operand, target, same) for operand in binop_operands(node.value)
        ):
            return target
    return None


def item_base(target: ast.expr) -> ast.expr:
    """What ``target`` is an item of, however deep: ``d`` of ``d[i][j]`` (``target`` itself
    if it is not an item)."""
    while isinstance(target, ast.Subscript):
        target = target.value
    return target


def attributes_written(node: ast.AST, receiver: str) -> Iterator[str]:
    """The attributes an assignment writes through ``receiver``, or an item of them:
    ``self.a = ...``, ``self.a[k] += ...``, ``self.a: T = ...``."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    else:
        return
    for target in map(item_base, targets):
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == receiver:
            yield target.attr
