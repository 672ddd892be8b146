"""FT003's ``candidate()``: ``check()``'s shapes on the standard ``ast``, without a
``FileContext`` (a necessary condition, looser than ``check()`` where names decide)."""

from __future__ import annotations

import ast

from codemods.ft003_shapes import (
    Key,
    checked_key,
    identifier,
    key_of,
    or_key,
    own_statements,
)
from ftmigrate.analysis import (
    CLASS_DECORATORS,
    LOCK_FACTORIES,
    looks_like_lock_name,
)
from ftmigrate.prefilter import (
    ast_class_aliases,
    ast_dotted,
    ast_may_say_shared,
    statements,
)

_FUNCTION = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_THREAD_CALLS = frozenset({"Thread", "Timer"})
_POOL_CALLS = frozenset({"submit", "map", "apply_async", "map_async", "imap", "imap_unordered", "start_new_thread"})


def _assigned_keys(body: list[ast.stmt]) -> set[Key]:
    """Keys that an ``Assign``/``AnnAssign`` in ``body`` binds (``assignments_in``)."""
    keys: set[Key] = set()
    for stmt in own_statements(body):
        if isinstance(stmt, ast.Assign):
            keys.update(k for k in map(key_of, stmt.targets) if k is not None)
        elif isinstance(stmt, ast.AnnAssign):
            key = key_of(stmt.target)
            if key is not None:
                keys.add(key)
    return keys


def _handoff_attributes(tree: ast.AST) -> set[str]:
    """Attribute names handed as ``obj.attr`` to ``Thread``/``Timer``/``x.submit``/``x.map``...
    calls in ``tree`` (``thread_handoffs``; any argument, so more than LibCST looks at)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in _THREAD_CALLS or (name in _POOL_CALLS and isinstance(func, ast.Attribute)):
            for value in [*node.args[:2], *(k.value for k in node.keywords)]:
                if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
                    found.add(value.attr)
    return found


def _lock_like(name: str) -> bool:
    # A non-ASCII name may be spelled otherwise in the source (the ast normalises it).
    return not name.isascii() or looks_like_lock_name(name)


class Candidates:
    """One file's ``candidate()`` walk: each function once, module facts when first asked."""

    def __init__(self, tree: ast.Module, shared_classes: frozenset[str]) -> None:
        self.tree = tree
        self.shared_classes = {identifier(name) for name in shared_classes}
        self.top_classes: dict[str, list[ast.ClassDef]] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef):
                self.top_classes.setdefault(stmt.name, []).append(stmt)
        self._cachers: set[str] | None = None
        self._threading_names: set[str] | None = None
        self._instantiated: set[str] | None = None
        self._module_handoffs: set[str] | None = None
        self._shared: dict[int, bool] = {}

    def found(self) -> bool:
        stack: list[tuple[ast.stmt, ast.ClassDef | None]] = [(s, None) for s in own_statements(self.tree.body) if isinstance(s, _SCOPE)]
        while stack:
            node, owner = stack.pop()
            if isinstance(node, ast.ClassDef):
                direct = {id(s) for s in node.body}
                stack.extend((s, node if id(s) in direct else None) for s in own_statements(node.body) if isinstance(s, _SCOPE))
                continue
            nested = self._function(node, owner)
            if nested is None:
                return True
            stack.extend((s, None) for s in nested)
        return False

    def _function(self, func: ast.FunctionDef | ast.AsyncFunctionDef, cls: ast.ClassDef | None) -> list[ast.stmt] | None:
        """None if ``func`` may hold a site, else the functions and classes nested in it."""
        if self._cached_singleton(func):
            return None
        declared: set[str] = set()
        keys: list[Key] = []
        nested: list[ast.stmt] = []
        for stmt in own_statements(func.body):
            if isinstance(stmt, ast.If):
                key = checked_key(stmt.test)
                if key is not None and key in _assigned_keys(stmt.body):
                    keys.append(key)
            elif isinstance(stmt, ast.Assign):
                key = or_key(stmt)
                if key is not None:
                    keys.append(key)
            elif isinstance(stmt, ast.Global):
                declared.update(stmt.names)
            elif isinstance(stmt, _SCOPE):
                nested.append(stmt)
        if any(self._state(func, cls, key, declared) for key in keys):
            return None
        return nested

    def _state(self, func: ast.FunctionDef | ast.AsyncFunctionDef, cls: ast.ClassDef | None, key: Key, declared: set[str]) -> bool:
        """May ``key`` name shared state in ``func`` (``LazyInitialisation._state``)?
        Looser where names decide: the ast normalises identifiers the source may spell
        otherwise, so `__init__`, `__init_subclass__` and `@staticmethod` exclude nothing."""
        receiver, _ = key
        if receiver is None:
            return key[1] in declared
        args = func.args
        params = [*args.posonlyargs, *args.args]
        if cls is not None and params and receiver == params[0].arg:
            decorators = {(ast_dotted(d) or "").rsplit(".", 1)[-1] for d in func.decorator_list}
            if decorators & CLASS_DECORATORS or func.name in ("__new__", "__init_subclass__", "__class_getitem__"):
                return True
            if self._may_be_shared(cls):
                return True
        if cls is not None and params and receiver in ast_class_aliases(func):
            return True
        return receiver in self.top_classes and receiver not in {a.arg for a in (*params, *args.kwonlyargs)}

    # --- instances shared between threads (shared_class_reason) ---------------------------
    def _may_be_shared(self, cls: ast.ClassDef) -> bool:
        if id(cls) not in self._shared:
            self._shared[id(cls)] = self._shared_reason(cls)
        return self._shared[id(cls)]

    def _shared_reason(self, cls: ast.ClassDef) -> bool:
        self._shared[id(cls)] = False  # a class that derives from itself
        if cls.name in self.shared_classes or self._has_lock_attribute(cls) or ast_may_say_shared(cls):
            return True
        for base in cls.bases:
            named = self.top_classes.get(base.id, []) if isinstance(base, ast.Name) else []
            if any(self._may_be_shared(c) for c in named):
                return True
        for base in cls.bases:
            name = ast_dotted(base)
            if name is not None and (name.rsplit(".", 1)[-1] == "Thread" or name in self.threading_names):
                return True
        return self._handed_over(cls)

    def _has_lock_attribute(self, cls: ast.ClassDef) -> bool:
        """``class_lock_attrs``: a class-level ``name = <lock>`` or ``self.name = <lock>`` in a method."""
        for stmt in cls.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and self._lock_assignment(stmt, ast.Name):
                return True
            if isinstance(stmt, _FUNCTION):
                for inner in own_statements(stmt.body):
                    if isinstance(inner, (ast.Assign, ast.AnnAssign)) and self._lock_assignment(inner, ast.Attribute):
                        return True
        return False

    def _lock_assignment(self, stmt: ast.Assign | ast.AnnAssign, kind: type) -> bool:
        value = stmt.value
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        factory = (isinstance(func, ast.Attribute) and func.attr in LOCK_FACTORIES) or (
            isinstance(func, ast.Name) and (func.id in self.threading_names or _lock_like(func.id))  # a project's `Lock()`
        )
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            if kind is ast.Name and isinstance(target, ast.Name) and (factory or _lock_like(target.id)):
                return True
            if kind is ast.Attribute and isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and (
                factory or _lock_like(target.attr)
            ):
                return True
        return False

    @property
    def threading_names(self) -> set[str]:
        """Local names of ``from threading import ...`` at module level."""
        if self._threading_names is None:
            self._threading_names = {
                alias.asname or alias.name
                for stmt in self.tree.body
                if isinstance(stmt, ast.ImportFrom) and stmt.module == "threading" and not stmt.level
                for alias in stmt.names
            }
        return self._threading_names

    def _handed_over(self, cls: ast.ClassDef) -> bool:
        """``thread_entry_methods``: a method handed as ``obj.method`` to a thread or pool
        call, ``obj`` being ``self`` in a call inside the class, or a name the module binds
        to ``ClassName(...)`` (only then is the whole module searched)."""
        methods = {s.name for s in cls.body if isinstance(s, _FUNCTION)}
        if not methods:
            return False
        if not methods.isdisjoint(_handoff_attributes(cls)):
            return True
        if cls.name not in self.instantiated:
            return False
        if self._module_handoffs is None:
            self._module_handoffs = _handoff_attributes(self.tree)
        return not methods.isdisjoint(self._module_handoffs)

    @property
    def instantiated(self) -> set[str]:
        """Names ``C`` of ``x = C(...)`` anywhere in the module."""
        if self._instantiated is None:
            self._instantiated = set()
            for stmt in statements(self.tree):
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    if any(isinstance(t, ast.Name) for t in targets):
                        self._instantiated.add(stmt.value.func.id)
        return self._instantiated


    # --- lru_cache ----------------------------------------------------------------------
    def _cached_singleton(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        args = func.args
        if args.posonlyargs or args.args or args.kwonlyargs or args.vararg or args.kwarg or not func.decorator_list:
            return False
        for decorator in func.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if ast_dotted(target) in self.cachers:
                return True
        return False

    @property
    def cachers(self) -> set[str]:
        """``_functools_cachers``: how the module spells ``functools.lru_cache``/``cache``."""
        if self._cachers is None:
            self._cachers = set()
            for stmt in self.tree.body:
                if isinstance(stmt, ast.Import):
                    for alias in stmt.names:
                        if alias.name == "functools":
                            local = alias.asname or "functools"
                            self._cachers.update({f"{local}.lru_cache", f"{local}.cache"})
                elif isinstance(stmt, ast.ImportFrom) and stmt.module == "functools" and not stmt.level:
                    self._cachers.update(alias.asname or alias.name for alias in stmt.names if alias.name in ("lru_cache", "cache"))
        return self._cachers
