"""Walking an ``ast`` tree in source order (LibCST's visiting order), for ``ftmigrate.analysis``.

``ast.walk`` is breadth-first and ``ast.iter_child_nodes`` follows ``_fields``, which puts a
def's decorators after its body and a dict's values after its keys: these walks do not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Sequence

Function = ast.FunctionDef | ast.AsyncFunctionDef
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
FUNCTION_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
FUNCTION_BOUNDARY = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
# Code in these runs in a scope of its own: a function's own code stops at them.
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)

# --- walking in source order -----------------------------------------------------------
# ``ast.walk`` is breadth-first and ``ast.iter_child_nodes`` follows ``_fields``, which puts
# a def's decorators after its body and a dict's values after its keys. These walks give
# the children in the order they are written (LibCST's visiting order), and skip the
# context and operator fields (shared singletons, never of interest). Each node class gets
# its own small function listing its children (``_getter``): a walk is most of the cost of
# a FileContext.
_FIRST_FIELDS = {
    ast.FunctionDef: ("decorator_list", "args", "returns", "body"),
    ast.AsyncFunctionDef: ("decorator_list", "args", "returns", "body"),
    ast.ClassDef: ("decorator_list", "bases", "keywords", "body"),
    ast.IfExp: ("body", "test", "orelse"),
}
# Field types of the ast grammar that are not nodes (or are shared singletons: contexts, operators).
_NOT_NODES = frozenset({"identifier", "string", "int", "constant", "expr_context", "operator", "unaryop", "cmpop", "boolop", "type_ignore"})
_FIELD = re.compile(r"(\w+)([*?]?) (\w+)")


def _interleaved(first: list, second: list) -> list:
    return [n for pair in zip(first, second) for n in pair if n is not None]


def _arguments(node: ast.arguments) -> list[ast.AST]:
    positional = [*node.posonlyargs, *node.args]
    defaults = [None] * (len(positional) - len(node.defaults)) + list(node.defaults)
    out = _interleaved(positional, defaults)
    if node.vararg is not None:
        out.append(node.vararg)
    out += _interleaved(node.kwonlyargs, node.kw_defaults)
    if node.kwarg is not None:
        out.append(node.kwarg)
    return out


def _call(node: ast.Call) -> list[ast.AST]:
    out = [node.func, *node.args, *node.keywords]
    if node.keywords and node.args and isinstance(node.args[-1], ast.Starred):  # f(a=1, *rest)
        out[1:] = sorted(out[1:], key=lambda n: (n.lineno, n.col_offset))
    return out


def _generic(node: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            out += [v for v in value if isinstance(v, ast.AST) and not isinstance(v, _SHARED)]
        elif isinstance(value, ast.AST) and not isinstance(value, _SHARED):
            out.append(value)
    return out


_SHARED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_GETTERS: dict[type, Callable[[ast.AST], Sequence[ast.AST]]] = {
    ast.Dict: lambda node: _interleaved(node.keys, node.values),
    ast.arguments: _arguments,
    ast.Call: _call,
}


def _getter(kind: type) -> Callable[[ast.AST], Sequence[ast.AST]]:
    """A function listing a node's children in source order, made from the ast grammar
    line in the class's docstring (``Assign(expr* targets, expr value, ...)``)."""
    fields = {name: (type_, mark) for type_, mark, name in _FIELD.findall((kind.__doc__ or "").split("\n")[0])}
    if set(fields) != set(kind._fields):
        getter = _generic  # a grammar line this version does not write as expected
    else:
        order = [f for f in _FIRST_FIELDS.get(kind, ()) if f in fields] + [f for f in kind._fields if f not in _FIRST_FIELDS.get(kind, ())]
        wanted = [(name, fields[name][1]) for name in order if fields[name][0] not in _NOT_NODES]
        if not wanted:
            getter = lambda node: ()
        else:
            lines = ["def children(n):", "    out = []"]
            for name, mark in wanted:
                if mark == "*":
                    lines.append(f"    out += n.{name}")
                elif mark == "?":
                    lines += [f"    v = n.{name}", "    if v is not None:", "        out.append(v)"]
                else:
                    lines.append(f"    out.append(n.{name})")
            namespace: dict = {}
            exec("\n".join([*lines, "    return out"]), namespace)  # noqa: S102 (code made from the ast grammar)
            getter = namespace["children"]
    _GETTERS[kind] = getter
    return getter


def children(node: ast.AST) -> Sequence[ast.AST]:
    """The child nodes of ``node`` in source order (expression contexts and operators,
    shared singletons, left out)."""
    kind = type(node)
    return (_GETTERS.get(kind) or _getter(kind))(node)


Root = ast.AST | list


def walk(root: Root, prune: tuple[type, ...] | Callable[[ast.AST], bool] = ()) -> list[ast.AST]:
    """``root`` (a node, or a list of them such as a ``body``) and its descendants in
    pre-order and source order; nodes of the ``prune`` types (or for which ``prune``
    holds) are listed but not descended into. A list root is not itself listed."""
    test = (lambda node: isinstance(node, prune)) if isinstance(prune, tuple) else prune
    out: list[ast.AST] = []
    stack = list(reversed(root)) if isinstance(root, list) else [root]
    first = None if isinstance(root, list) else root
    while stack:
        node = stack.pop()
        out.append(node)
        if node is first or not (prune and test(node)):
            stack.extend(reversed(children(node)))
    return out


# iter_function_nodes of the functions of the file being checked: every rule walks the same
# functions. Keyed by id, checked by identity; FileContext empties it for each new file.
_FUNCTION_NODES: dict[int, tuple[ast.AST, list[ast.AST]]] = {}


def iter_function_nodes(func: ast.AST) -> list[ast.AST]:
    """Every node of ``func``'s body (the statements of its ``body`` list, or a lambda's
    expression), not descending into nested functions, classes or lambdas (which are
    listed; their decorators and defaults are not): a list shared between callers, do
    not change it."""
    known = _FUNCTION_NODES.get(id(func))
    if known is not None and known[0] is func:
        return known[1]
    nodes = walk(func.body, prune=NESTED_SCOPES) if isinstance(func.body, list) else walk([func.body], prune=NESTED_SCOPES)
    _FUNCTION_NODES[id(func)] = (func, nodes)
    return nodes


def find_in(root: Root, test: Callable[[ast.AST], bool]) -> list[ast.AST]:
    """The nodes of ``root`` (itself included) for which ``test`` holds, in source order
    (LibCST's ``m.findall`` with a predicate)."""
    return [node for node in walk(root) if test(node)]


def any_in(nodes: Iterable[ast.AST], test: Callable[[ast.AST], bool]) -> bool:
    return any(test(node) for root in nodes for node in walk(root))
