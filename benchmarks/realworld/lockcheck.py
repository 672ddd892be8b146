"""Classify every ``with`` statement that ``apply`` inserted, from the old and new source alone.

This is deliberately independent of ftmigrate's own lock analysis (it imports nothing of
``ftmigrate``): the proof must not be the tool checking itself. For each inserted
``with X:`` the lock expression ``X`` is

- ``dedicated``: a name or attribute that the old code never binds and the new code binds
  only to ``threading.Lock()``/``threading.RLock()`` (the lock the fix created);
- ``proven``: a name or attribute that the old code binds, every time, to a ``threading``
  primitive: ``Lock``, ``RLock``, ``Condition``, ``Semaphore``, ``BoundedSemaphore``, called
  as ``threading.X()``, through ``import threading as t`` or ``from threading import X as Y``;
- ``unproven``: anything else (an asyncio lock, a ``defaultdict``, a parameter, an
  imported object, a name only *called* ``lock``...).

Independently of that, an inserted ``with`` is flagged

- ``unbound`` when its lock is an instance attribute (bound on ``self`` in methods, not in
  the class body) and the ``with`` sits where ``__init__`` may not have run (``__new__``,
  ``__setstate__``, ``__reduce__``, ``__copy__``, ``__deepcopy__``, class or static methods, or
  ``__init__`` before the assignment), or when the ``with`` body itself binds the lock;
- ``in_async`` when it is inside an ``async def``;
- ``nested`` when another inserted ``with`` is inside it.

Scopes are resolved the simple way Python does: a name in the function, then the enclosing
functions, then the module (``global`` honoured); ``self.x``/``cls.x``/``type(self).x``/``self.__class__.x`` in a
method, and ``ClassName.x``, name the class's attribute, looked up through the bases defined
in the same module.
"""

from __future__ import annotations

import ast
import functools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

PRIMITIVES = frozenset({"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore"})
NEW_LOCKS = frozenset({"Lock", "RLock"})
BEFORE_INIT = frozenset({"__new__", "__setstate__", "__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__"})
OTHER = "other"


@dataclass
class InsertedLock:
    function: str
    line: int
    lock: str
    kind: str  # dedicated, proven, unproven
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"function": self.function, "line": self.line, "lock": self.lock, "kind": self.kind,
                "flags": self.flags}


@dataclass
class _Context:
    """Where a node sits: the chain of enclosing classes and functions."""

    chain: tuple[ast.AST, ...]

    def qualname(self) -> str:
        return ".".join(node.name for node in self.chain) or "<module>"

    def function(self) -> ast.AST | None:
        for node in reversed(self.chain):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None

    def method_class(self) -> tuple[ast.ClassDef, ast.AST] | None:
        """The class whose method this code is in, and the method (or None)."""
        for index in range(len(self.chain) - 1, 0, -1):
            node, parent = self.chain[index], self.chain[index - 1]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(parent, ast.ClassDef):
                return parent, node
        return None


def _walk_with_context(tree: ast.AST):
    """(node, context) for every node, the context being its enclosing classes/functions."""
    stack = [(tree, ())]
    while stack:
        node, chain = stack.pop()
        yield node, _Context(chain)
        inner = chain + (node,) if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) else chain
        for child in reversed(list(ast.iter_child_nodes(node))):
            stack.append((child, inner))


class Bindings:
    """What each name and attribute of one module is bound to."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.threading_modules: set[str] = set()
        self.threading_names: dict[str, str] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.values: dict[tuple, list[str]] = defaultdict(list)
        self.instance_sites: dict[tuple, list[tuple[str, int]]] = defaultdict(list)
        self.class_level: set[tuple] = set()
        self._read_imports()
        self._read_bindings()

    def _read_imports(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "threading":
                        self.threading_modules.add(alias.asname or "threading")
            elif isinstance(node, ast.ImportFrom) and node.module == "threading" and not node.level:
                for alias in node.names:
                    self.threading_names[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, node)

    def primitive(self, value: ast.AST | None) -> str:
        """The threading primitive ``value`` creates, or OTHER."""
        if not isinstance(value, ast.Call):
            return OTHER
        func = value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id in self.threading_modules and func.attr in PRIMITIVES:
                return func.attr
        if isinstance(func, ast.Name) and self.threading_names.get(func.id) in PRIMITIVES:
            return self.threading_names[func.id]
        return OTHER

    def _read_bindings(self) -> None:
        for node, context in _walk_with_context(self.tree):
            if isinstance(node, ast.AnnAssign) and node.value is None:
                continue  # `x: threading.Lock` declares, binds nothing
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = None if isinstance(node, ast.AugAssign) else node.value
                for target in targets:
                    self._bind(target, self.primitive(value), context, node.lineno)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                self._bind(node.target, OTHER, context, getattr(node, "lineno", 0))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        self._bind(item.optional_vars, OTHER, context, node.lineno)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._bind(ast.Name(id=node.name), OTHER, context, node.lineno)
                if not isinstance(node, ast.ClassDef):
                    inner = _Context(context.chain + (node,))
                    for argument in ast.walk(node.args):
                        if isinstance(argument, ast.arg):
                            self._bind(ast.Name(id=argument.arg), OTHER, inner, node.lineno)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    self._bind(ast.Name(id=(alias.asname or alias.name).split(".")[0]), OTHER, context, node.lineno)

    def _bind(self, target: ast.AST, kind: str, context: _Context, line: int) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind(element, OTHER, context, line)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, OTHER, context, line)
        else:
            key = self.key(target, context)
            if key is not None:
                self.values[key].append(kind)
                if key[0] == "class" and isinstance(target, ast.Attribute):
                    method = context.method_class()
                    self.instance_sites[key].append((method[1].name if method else "", line))
                elif key[0] == "class":
                    self.class_level.add(key)

    def key(self, expression: ast.AST, context: _Context) -> tuple | None:
        """The binding an expression names: ("module", n), ("function", qualname, n), ("class", C, n)."""
        if isinstance(expression, ast.Name):
            return self._name_key(expression.id, context)
        if not isinstance(expression, ast.Attribute):
            return None
        owner = expression.value
        if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "type" and owner.args:
            owner = owner.args[0]  # type(self).x
        elif isinstance(owner, ast.Attribute) and owner.attr == "__class__":
            owner = owner.value  # self.__class__.x
        if not isinstance(owner, ast.Name):
            return None
        method = context.method_class()
        if method is not None:
            cls, function = method
            arguments = function.args.posonlyargs + function.args.args
            if arguments and arguments[0].arg == owner.id and context.function() is function:
                return ("class", cls.name, expression.attr)
        if owner.id in self.classes:
            return ("class", owner.id, expression.attr)
        return None

    def _name_key(self, name: str, context: _Context) -> tuple:
        scopes = [node for node in context.chain if not isinstance(node, ast.ClassDef)]
        innermost = context.chain[-1] if context.chain else None
        if isinstance(innermost, ast.ClassDef):
            return ("class", innermost.name, name)
        for depth in range(len(scopes) - 1, -1, -1):
            function = scopes[depth]
            declared = _declarations(function)
            if name in declared.get("global", ()):
                return ("module", name)
            if name in declared.get("nonlocal", ()):
                continue
            if name in _local_names(function):
                return ("function", ".".join(n.name for n in context.chain[: context.chain.index(function) + 1]), name)
        return ("module", name)

    def kinds(self, key: tuple) -> list[str]:
        """Every value bound to ``key``, through the bases of a class defined in this module."""
        seen = set()
        while key not in self.values and key[0] == "class" and key[1] not in seen:
            seen.add(key[1])
            cls = self.classes.get(key[1])
            bases = [base.id for base in cls.bases if isinstance(base, ast.Name)] if cls else []
            found = next(((("class", base, key[2])) for base in bases if ("class", base, key[2]) in self.values), None)
            if found is None:
                return []
            key = found
        return self.values.get(key, [])


@functools.lru_cache(maxsize=4096)
def _declarations(function: ast.AST) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"global": set(), "nonlocal": set()}
    for node in _own_nodes(function):
        if isinstance(node, ast.Global):
            found["global"].update(node.names)
        elif isinstance(node, ast.Nonlocal):
            found["nonlocal"].update(node.names)
    return found


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, not of the functions and classes nested in it."""
    stack = list(function.body) if hasattr(function, "body") else []
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)


def _parameters(function: ast.AST) -> set[str]:
    return {argument.arg for argument in ast.walk(function.args) if isinstance(argument, ast.arg)}


@functools.lru_cache(maxsize=4096)
def _local_names(function: ast.AST) -> set[str]:
    names = set(_parameters(function))
    for node in _own_nodes(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names - _declarations(function)["global"] - _declarations(function)["nonlocal"]


def _with_key(node: ast.With, context: _Context) -> tuple[str, str]:
    return context.qualname(), " ".join(ast.unparse(item) for item in node.items)


def _withs(tree: ast.AST) -> list[tuple[ast.With, _Context]]:
    return [(node, context) for node, context in _walk_with_context(tree) if isinstance(node, ast.With)]


def inserted_withs(old: ast.Module, new: ast.Module) -> list[tuple[ast.With, _Context]]:
    """The ``with`` statements of ``new`` that ``old`` does not have (matched per function)."""
    old_counts = Counter(_with_key(node, context) for node, context in _withs(old))
    old_dumps = Counter(ast.dump(node) for node, _ in _withs(old))
    candidates: dict[tuple, list] = defaultdict(list)
    for node, context in _withs(new):
        candidates[_with_key(node, context)].append((node, context))
    inserted = []
    for key, found in candidates.items():
        extra = len(found) - old_counts.get(key, 0)
        if extra <= 0:
            continue
        unmatched = []
        for node, context in found:
            dump = ast.dump(node)
            if old_dumps[dump] > 0:
                old_dumps[dump] -= 1
            else:
                unmatched.append((node, context))
        inserted.extend(unmatched[:extra])
    return inserted


def _kind(key: tuple | None, old: Bindings, new: Bindings) -> str:
    if key is None:
        return "unproven"
    before, after = old.kinds(key), new.kinds(key)
    if not before:
        return "dedicated" if after and all(kind in NEW_LOCKS for kind in after) else "unproven"
    return "proven" if all(kind in PRIMITIVES for kind in after) else "unproven"


def _unbound(node: ast.With, context: _Context, key: tuple | None, new: Bindings) -> bool:
    if key is None:
        return False
    lock = node.items[0].context_expr
    if any(
        isinstance(inner, (ast.Assign, ast.AnnAssign)) and any(ast.dump(t) == ast.dump(lock) for t in
                                                              (inner.targets if isinstance(inner, ast.Assign) else [inner.target]))
        for statement in node.body for inner in ast.walk(statement)
    ):
        return True
    if key[0] != "class" or key in new.class_level or _inherited_class_level(key, new):
        return False
    method = context.method_class()
    if method is None:
        return False
    function = method[1]
    decorators = {ast.unparse(d) for d in function.decorator_list}
    if function.name in BEFORE_INIT or decorators & {"classmethod", "staticmethod"}:
        return True
    if function.name == "__init__":
        sites = [line for name, line in new.instance_sites.get(key, []) if name == "__init__"]
        return not sites or min(sites) > node.lineno
    return False


def _inherited_class_level(key: tuple, bindings: Bindings) -> bool:
    cls = bindings.classes.get(key[1])
    for base in cls.bases if cls else []:
        if isinstance(base, ast.Name) and (("class", base.id, key[2]) in bindings.class_level):
            return True
    return False


def classify(old_source: str | bytes, new_source: str | bytes) -> list[InsertedLock]:
    """Every ``with`` inserted between ``old_source`` and ``new_source``, classified."""
    old_tree, new_tree = ast.parse(old_source), ast.parse(new_source)
    old, new = Bindings(old_tree), Bindings(new_tree)
    inserted = inserted_withs(old_tree, new_tree)
    inserted_ids = {id(node) for node, _ in inserted}
    results = []
    for node, context in inserted:
        expression = node.items[0].context_expr
        key = new.key(expression, context)
        flags = []
        if _unbound(node, context, key, new):
            flags.append("unbound")
        if any(isinstance(scope, ast.AsyncFunctionDef) for scope in context.chain):
            flags.append("in_async")
        if any(id(inner) in inserted_ids for statement in node.body for inner in ast.walk(statement)):
            flags.append("nested")
        results.append(InsertedLock(context.qualname(), node.lineno, ast.unparse(expression),
                                    _kind(key, old, new), flags))
    return results
