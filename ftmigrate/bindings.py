"""Module-level helpers of ``ftmigrate.analysis`` on the standard ``ast``: walking a tree
in source order, names (``dotted``, lock-like names), and which names a scope binds.

Same names and meaning as the LibCST helpers they replace; where LibCST and ``ast`` differ
the docstring says what the ``ast`` answer is.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Iterator

from ftmigrate.astwalk import (  # noqa: F401 (the first ports import the walks from here)
    FUNCTION_BOUNDARY,
    FUNCTION_DEFS,
    FUNCTIONS,
    NESTED_SCOPES,
    Function,
    Root,
    any_in,
    children,
    find_in,
    iter_function_nodes,
    walk,
)
from ftmigrate.lockmakers import LOCK_FACTORIES, LOCK_MODULES, THREAD_MODULES  # noqa: F401 (rules import them from here)

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

# What a scope's own code is: nested functions, classes, lambdas and comprehensions have
# their own scopes (LibCST puts a walrus inside a comprehension in the comprehension's).
_OWN_SCOPE_PRUNE = (*NESTED_SCOPES, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

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


# The text of the module this thread is checking (``sourcetext.SourceText``; FileContext sets
# it): it tells an indented block from a one-line suite, which ast does not. Per thread: a
# batch worker (Dask's threads) may check several files at once in one process.
_SOURCE = threading.local()


def check_text_of(source) -> None:
    """The ``SourceText`` of the module this thread checks from now on (``FileContext``)."""
    _SOURCE.text = source


def indented(block: list[ast.stmt]) -> bool:
    """The block is an indented one (LibCST's ``IndentedBlock``), not a one-line suite
    (``if x: a; b``): its first statement starts its line. Without the module's text
    (no FileContext), every block counts as indented."""
    source = getattr(_SOURCE, "text", None)
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
