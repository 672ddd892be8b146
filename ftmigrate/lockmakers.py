"""A project's own thread-lock makers: evidence, never a lock a fix may use.

Libraries often create their locks through a helper of their own: httpcore's
``_synchronization.Lock`` (a class whose ``__enter__`` acquires a ``threading.Lock`` it
keeps), pymongo's ``_create_lock()`` (a function returning ``threading.Lock()``). An
instance attribute bound to such a call says, like ``self._lock = threading.Lock()``, that
the instances are meant to be used by several threads (``analysis.instance_lock_attributes``).

A lock maker is a top-level definition of a module of the run:
- a function whose every ``return`` gives a ``threading`` lock factory call
  (``threading.Lock()``, ``RLock()``, ``Condition()``, ``Semaphore()``...), directly or
  through a local bound to such calls only, and that has at least one ``return``;
- a class whose ``__init__`` binds ``self.x`` to such a call and whose ``__enter__`` or
  ``acquire`` calls ``self.x.acquire()``.
Other modules reach it by ``from module import name [as alias]`` (relative imports
included, resolved by ``ftmigrate.project_index``). Whether a fix may *hold* such an object
stays ``ftmigrate.threadlocks``' question, which never takes a project's own lock.
"""

from __future__ import annotations

import ast
from collections import Counter

# The standard library's lock factories, and the modules that have them (``threading``'s
# thread locks; ``multiprocessing``'s are locks too, across processes).
LOCK_FACTORIES = frozenset({"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "allocate_lock"})
LOCK_MODULES = frozenset({"threading", "multiprocessing", "_thread"})
THREAD_MODULES = frozenset({"threading", "_thread"})


def ast_lock_makers(tree: ast.Module) -> dict[str, str]:
    """Top-level name -> why it makes a thread lock, for one module's tree."""
    modules, names = _threading_names(tree)

    def factory_call(expr: ast.AST | None) -> bool:
        if not isinstance(expr, ast.Call):
            return False
        func = expr.func
        if isinstance(func, ast.Attribute):
            return func.attr in LOCK_FACTORIES and isinstance(func.value, ast.Name) and func.value.id in modules
        return isinstance(func, ast.Name) and func.id in names

    found: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and _returns_lock(stmt, factory_call):
            found[stmt.name] = f"`{stmt.name}()` returns a threading lock"
        elif isinstance(stmt, ast.ClassDef) and _wraps_lock(stmt, factory_call):
            found[stmt.name] = f"`{stmt.name}` wraps a threading lock"
    return found


def _threading_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(local names of the lock modules, local names of their lock factories)."""
    modules: set[str] = set()
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            modules.update(a.asname or a.name for a in stmt.names if a.name in THREAD_MODULES)
        elif isinstance(stmt, ast.ImportFrom) and stmt.module in THREAD_MODULES and not stmt.level:
            names.update(a.asname or a.name for a in stmt.names if a.name in LOCK_FACTORIES)
    return modules, names


def _own_nodes(func: ast.AST) -> list[ast.AST]:
    """The nodes of ``func``'s own code (nested functions, classes and lambdas left out)."""
    found, stack = [], list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _returns_lock(func: ast.FunctionDef, factory_call) -> bool:
    nodes = _own_nodes(func)
    returns = [n.value for n in nodes if isinstance(n, ast.Return)]
    params = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    stores = Counter(n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load))
    values: dict[str, list[ast.AST]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(node.value)

    def is_lock(value: ast.AST | None) -> bool:
        if isinstance(value, ast.Name) and value.id not in params and value.id in values:
            bound = values[value.id]
            return len(bound) == stores[value.id] and all(factory_call(v) for v in bound)
        return factory_call(value)

    return bool(returns) and all(is_lock(value) for value in returns)


def _wraps_lock(cls: ast.ClassDef, factory_call) -> bool:
    methods = {s.name: s for s in cls.body if isinstance(s, ast.FunctionDef)}
    init = methods.get("__init__")
    if init is None or not init.args.args:
        return False
    receiver = init.args.args[0].arg
    held = {
        t.attr
        for s in init.body if isinstance(s, ast.Assign) and factory_call(s.value)
        for t in s.targets if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == receiver
    }
    for name in ("__enter__", "acquire"):
        method = methods.get(name)
        if method is None or not method.args.args:
            continue
        own = method.args.args[0].arg
        for node in _own_nodes(method):
            func = node.func if isinstance(node, ast.Call) else None
            if (
                isinstance(func, ast.Attribute) and func.attr == "acquire"
                and isinstance(func.value, ast.Attribute) and func.value.attr in held
                and isinstance(func.value.value, ast.Name) and func.value.value.id == own
            ):
                return True
    return False


def resolve_lock_makers(by_path: dict[str, dict]) -> dict[str, dict[str, str]]:
    """Path -> {local name: why} of the lock makers each file of the run can call by name:
    its own, and those it imports from another module of the run (``from .sync import
    Lock``), from the ``project_index`` facts of every file (``imports``, ``lock_makers``)."""
    by_module = {facts["module"]: facts for facts in by_path.values()}
    found: dict[str, dict[str, str]] = {}
    for path, facts in by_path.items():
        names = dict(facts.get("lock_makers", {}))
        for local, dotted in facts["imports"].items():
            module, _, name = dotted.rpartition(".")
            why = by_module.get(module, {}).get("lock_makers", {}).get(name)
            if why is not None:
                names[local] = f"{why} (`{module}.{name}`)"
        if names:
            found[path] = names
    return found
