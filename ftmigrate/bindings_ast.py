"""Module-level helpers of ``ftmigrate.analysis_ast`` on the standard ``ast``: walking a tree
in source order, names (``dotted``, lock-like names), and which names a scope binds.

Same names and meaning as the LibCST helpers they replace; where LibCST and ``ast`` differ
the docstring says what the ``ast`` answer is.
"""

from __future__ import annotations

import ast
import re
from typing import Callable, Iterable, Iterator, Sequence, Union

from ftmigrate.lockmakers import LOCK_FACTORIES, LOCK_MODULES, THREAD_MODULES  # noqa: F401 (rules import them from here)

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

_LOCK_WORDS = frozenset({"lock", "locks", "rlock", "mutex", "mtx", "sem", "semaphore", "cond", "condition", "cv"})
_NOT_LOCK_WORDS = frozenset({"block", "blocks", "clock", "clocks", "unlock", "deadlock", "flock", "blocklock"})
_DECORATOR_WORDS = frozenset({"synchronized", "synchronised", "locked", "lock", "with_lock", "serialized"})
# Decorators whose function gets the class as its first argument (Django's ``classproperty``).
CLASS_DECORATORS = frozenset({"classmethod", "classproperty", "class_property"})

# Builtins that never call back into user code when given builtin values; anything else
# called inside a guarded block makes the inserted lock an RLock.
SAFE_CALLS = frozenset(
    {
        "len", "abs", "min", "max", "sum", "int", "float", "str", "bool", "round", "isinstance",
        "issubclass", "tuple", "list", "set", "frozenset", "dict", "range", "ord", "chr", "divmod",
        "pow", "id", "type", "callable", "object", "bytes", "complex", "hex", "oct", "bin", "hash",
    }
)

# Methods that hand a callable to an executor or a thread (``pool.submit(f)``, ``pool.map(f, ...)``).
POOL_METHODS = ("submit", "map", "apply_async", "map_async", "imap", "imap_unordered", "start_new_thread")

# Queues made for several threads to use at once: owning one says the object is shared
# (a ``threading.Event`` does not: one thread often just signals the object's own thread).
THREAD_SAFE_TYPES = {"queue": frozenset({"Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"})}

FUNCTION_BOUNDARY = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
# Code in these runs in a scope of its own: a function's own code stops at them.
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
# What a scope's own code is: nested functions, classes, lambdas and comprehensions have
# their own scopes (LibCST puts a walrus inside a comprehension in the comprehension's).
_OWN_SCOPE_PRUNE = (*NESTED_SCOPES, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

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
            getter = lambda node: ()  # noqa: E731
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


Root = Union[ast.AST, list]


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


# --- names ------------------------------------------------------------------------------
def _words(identifier: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", identifier)
    return [w for w in spaced.lower().split("_") if w]


def looks_like_lock_name(identifier: str) -> bool:
    """The name's last word says lock: ``_lock``, ``state_lock``, ``LOCK``, ``_instancelock``,
    ``mutex``, ``cv``; not ``lock_count`` or ``lock_identifiers`` (a lock's *count* or
    *names*), nor ``block``/``clock``."""
    words = _words(identifier)
    if not words:
        return False
    word = words[-1]
    return word in _LOCK_WORDS or (word.endswith("lock") and word not in _NOT_LOCK_WORDS and not word.endswith(("block", "clock")))


def dotted(expr: ast.AST | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = dotted(expr.value)
        return None if inner is None else f"{inner}.{expr.attr}"
    return None


def root_name(expr: ast.AST) -> str | None:
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def decorated_method_kind(func: Function) -> str:
    """"static", "class" or "instance": what kind of method ``func`` is, if it is one, by
    its decorators (``@staticmethod``; ``@classmethod``, ``CLASS_DECORATORS``) and name
    (``__new__``, ``__init_subclass__``, ``__class_getitem__`` take the class)."""
    names = {(dotted(d) or "").rsplit(".", 1)[-1] for d in func.decorator_list}
    if "staticmethod" in names:
        return "static"
    if names & CLASS_DECORATORS or func.name in ("__new__", "__init_subclass__", "__class_getitem__"):
        return "class"
    return "instance"


def call_arguments(call: ast.Call) -> list[tuple[str | None, ast.expr]]:
    """``(keyword, value)`` of each argument of ``call`` in source order (``f(a=1, *b)``
    too); the keyword is None for a positional argument, ``*x`` and ``**x``, whose value is
    ``x`` (LibCST's ``Arg.keyword`` and ``Arg.value``)."""
    found = [(None, arg.value if isinstance(arg, ast.Starred) else arg, arg) for arg in call.args]
    found += [(keyword.arg, keyword.value, keyword) for keyword in call.keywords]
    if call.args and call.keywords:
        found.sort(key=lambda item: (item[2].lineno, item[2].col_offset))
    return [(keyword, value) for keyword, value, _ in found]


def identifiers_of(node: ast.AST) -> tuple[str, ...]:
    """The identifiers ``node`` itself spells, those LibCST has as ``Name`` nodes directly
    there (not in its child nodes): a Name's id, an Attribute's attr, a def's or class's
    name, a parameter, a keyword argument, each part of an import's dotted name and its
    alias, ``from a.b``'s module parts, ``global``/``nonlocal`` names, ``except ... as``
    and ``match`` captures, ``None``/``True``/``False``."""
    kind = type(node)
    if kind is ast.Name:
        return (node.id,)
    if kind is ast.Attribute:
        return (node.attr,)
    if kind in FUNCTION_DEFS:
        return (node.name,)
    if kind is ast.arg:
        return (node.arg,)
    if kind is ast.keyword or kind is ast.ExceptHandler or kind is ast.MatchAs or kind is ast.MatchStar:
        value = node.arg if kind is ast.keyword else node.name
        return () if value is None else (value,)
    if kind is ast.alias:
        return tuple(node.name.split(".")) + ((node.asname,) if node.asname else ()) if node.name != "*" else ()
    if kind is ast.ImportFrom:
        return tuple(node.module.split(".")) if node.module else ()
    if kind is ast.Global or kind is ast.Nonlocal:
        return tuple(node.names)
    if kind is ast.MatchMapping:
        return () if node.rest is None else (node.rest,)
    if kind is ast.MatchClass:
        return tuple(node.kwd_attrs)
    if kind is ast.Constant and (node.value is None or node.value is True or node.value is False):
        return (str(node.value),)  # LibCST's Name("None")
    return ()


def identifier_nodes(root: Root) -> Iterator[tuple[str, ast.AST]]:
    """(identifier, node) for every identifier LibCST has as a ``Name`` under ``root`` (a
    node, itself included, or a list of statements), in pre-order (so ``x.name`` gives
    ``name`` before ``x``, unlike LibCST, which visits the attribute's Name last); the node is the one
    that spells it (``identifiers_of``): an ``ast.Name``, the ``ast.Attribute`` of ``x.name``,
    the def of ``def name``, an ``ast.arg``, ``ast.keyword``, ``ast.alias``..."""
    for node in walk(root):
        for name in identifiers_of(node):
            yield name, node


# --- bindings ---------------------------------------------------------------------------
def _assignments(node: ast.AST) -> list[tuple[ast.expr, ast.expr]]:
    """(target, value) of an assignment with a value (each target of ``a = b = v``)."""
    if isinstance(node, ast.Assign):
        return [(t, node.value) for t in node.targets]
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return [(node.target, node.value)]
    return []


def scope_bindings(root: Root, skip: ast.AST | None = None) -> Iterator[tuple[str, ast.AST]]:
    """(name, node) for every binding the scope whose own code is ``root`` (a module, or a
    function's or class's ``body`` list) gets, as LibCST's ``ScopeProvider`` records them:
    the ``ast.Name`` of an assignment, ``for``, ``with ... as`` or walrus target (``x: int``
    alone included); the ``ast.ExceptHandler`` itself for ``except ... as e`` (ast has no
    Name there); the ``Import``/``ImportFrom`` (``import a.b`` binds ``a.b`` and ``a``);
    a nested function or class (not ``skip``). Not comprehension variables (their own
    scope), nor ``match`` captures and walrus targets inside comprehensions (which LibCST
    does not record there)."""
    for node in walk(root, prune=_OWN_SCOPE_PRUNE):
        kind = type(node)
        if kind is ast.Assign:
            for target in node.targets:
                yield from _bound_names(target)
        elif kind in (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr):
            yield from _bound_names(node.target)
        elif kind is ast.withitem:
            if node.optional_vars is not None:
                yield from _bound_names(node.optional_vars)
        elif kind is ast.ExceptHandler:
            if node.name is not None:
                yield node.name, node
        elif kind is ast.Import:
            for alias in node.names:
                if alias.asname is not None:
                    yield alias.asname, node
                    continue
                name = alias.name
                while "." in name:
                    yield name, node
                    name = name.rsplit(".", 1)[0]
                yield name, node
        elif kind is ast.ImportFrom:
            for alias in node.names:
                if alias.name != "*":
                    yield alias.asname or alias.name, node
        elif kind in FUNCTION_DEFS and node is not skip:
            yield node.name, node


FUNCTION_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _bound_names(target: ast.AST) -> Iterator[tuple[str, ast.Name]]:
    if isinstance(target, ast.Name):
        yield target.id, target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _bound_names(element)
    elif isinstance(target, ast.Starred):
        yield from _bound_names(target.value)


def own_bindings(func: Function, params: bool = True) -> set[str]:
    """Every name ``func``'s own scope binds (``scope_bindings`` of its body), parameters
    included unless ``params=False`` (a parameter assigned again still counts). ``global``/
    ``nonlocal`` declarations are the caller's to subtract."""
    names = {name for name, _ in scope_bindings(func.body, skip=func)}
    return names | parameter_names(func) if params else names


def parameters(func: Function | ast.Lambda) -> list[ast.arg]:
    """Every parameter, in order: positional-only, positional, ``*args``, keyword-only, ``**kw``."""
    every = func.args
    extra = [p for p in (every.vararg,) if p is not None]
    last = [p for p in (every.kwarg,) if p is not None]
    return [*every.posonlyargs, *every.args, *extra, *every.kwonlyargs, *last]


def parameter_names(func: Function | ast.Lambda) -> set[str]:
    return {p.arg for p in parameters(func)}


def top_level_bindings(stmt: ast.AST) -> set[str]:
    """Names a module-, class- or function-body statement binds in that body's scope
    (imports, assignments with a value, augmented assignments, defs, ``for`` targets, and
    the same in the blocks of compound statements; not ``with``/``except`` aliases)."""
    if isinstance(stmt, FUNCTION_DEFS):
        return {stmt.name}
    names: set[str] = set()
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            if alias.name != "*":
                names.add(alias.asname if alias.asname is not None else alias.name.split(".")[0])
        return names
    for target, _ in _assignments(stmt):
        names.update(_target_names(target))
    if isinstance(stmt, ast.AugAssign):
        names.update(_target_names(stmt.target))
    for child in _child_statements(stmt):
        names.update(top_level_bindings(child))
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        names.update(_target_names(stmt.target))
    return names


def _target_names(target: ast.AST) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        out: set[str] = set()
        for element in target.elts:
            out |= _target_names(element.value if isinstance(element, ast.Starred) else element)
        return out
    return set()


def _child_statements(stmt: ast.AST) -> list[ast.stmt]:
    """Statements nested in a compound statement's indented blocks (if/else, try/except,
    for, while, with, match; as on LibCST, not a one-line suite's: ``if x: a = 1``); none
    for defs and simple statements."""
    if isinstance(stmt, FUNCTION_DEFS) or not isinstance(stmt, ast.stmt):
        return []
    blocks = [getattr(stmt, "body", None), getattr(stmt, "orelse", None)]
    blocks += [handler.body for handler in getattr(stmt, "handlers", ())]
    blocks.append(getattr(stmt, "finalbody", None))
    blocks += [case.body for case in getattr(stmt, "cases", ())]
    return [s for block in blocks if isinstance(block, list) and indented(block) for s in block]


# The text of the module being checked (``sourcetext_ast.SourceText``; FileContext sets it):
# it tells an indented block from a one-line suite, which ast does not.
_SOURCE: list = [None]


def indented(block: list[ast.stmt]) -> bool:
    """The block is an indented one (LibCST's ``IndentedBlock``), not a one-line suite
    (``if x: a; b``): its first statement starts its line. Without the module's text
    (no FileContext), every block counts as indented."""
    source = _SOURCE[0]
    if not block or source is None:
        return bool(block)
    try:
        return source.starts_line(block[0])
    except IndexError:  # a statement of another tree
        return True


# --- what code does ---------------------------------------------------------------------
def calls_unknown_code(node: Root, safe_receivers: frozenset[str] = frozenset()) -> bool:
    """True if ``node`` calls anything but safe builtins or methods of ``safe_receivers``."""
    for call in walk(node):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if isinstance(func, ast.Name) and func.id in SAFE_CALLS:
            continue
        if isinstance(func, ast.Attribute) and dotted(func.value) in safe_receivers:
            continue
        return True
    return False


def binop_operands(expr: ast.AST) -> Iterator[ast.AST]:
    """Operands of a chain like ``x + a - b`` (left-nested), plus the right-hand ones."""
    while isinstance(expr, ast.BinOp):
        yield expr.right
        expr = expr.left
    yield expr


def suspends(node: Root) -> bool:
    """``await``/``yield``/``yield from`` inside: holding a threading lock across it could deadlock."""
    return any(isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom)) for n in walk(node))


def find_in(root: Root, test: Callable[[ast.AST], bool]) -> list[ast.AST]:
    """The nodes of ``root`` (itself included) for which ``test`` holds, in source order
    (LibCST's ``m.findall`` with a predicate)."""
    return [node for node in walk(root) if test(node)]


def any_in(nodes: Iterable[ast.AST], test: Callable[[ast.AST], bool]) -> bool:
    return any(test(node) for root in nodes for node in walk(root))
