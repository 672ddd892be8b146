"""How a module makes and names its locks: the lock part of ``ftmigrate.analysis.FileContext``
(a mixin: it uses the context's ``tree``, ``assignments`` and ``method_kind``). What counts
as a lock already held is ``ftmigrate.heldlocks``' reference."""

from __future__ import annotations

import ast
from functools import cached_property

from ftmigrate.astwalk import FUNCTIONS, iter_function_nodes
from ftmigrate.bindings import (
    LOCK_FACTORIES,
    LOCK_MODULES,
    _assignments,
    dotted,
    looks_like_lock_name,
)


class LockFacts:
    @cached_property
    def _lock_bindings(self) -> dict[str, set[str]]:
        # name or attribute bound to a lock factory call -> the factories (Lock, RLock...)
        kinds: dict[str, set[str]] = {}
        for target, value in self.assignments:
            kind = self.lock_kind(value)
            if kind is not None:
                name = target.id if isinstance(target, ast.Name) else (target.attr if isinstance(target, ast.Attribute) else None)
                if name:
                    kinds.setdefault(name, set()).add(kind)
        return kinds

    @cached_property
    def lock_identifiers(self) -> set[str]:
        """Names and attributes bound anywhere to a lock factory call (``threading.Lock()``...)."""
        return set(self._lock_bindings)

    @property
    def _lock_kinds(self) -> dict[str, set[str]]:
        return self._lock_bindings

    # --- threading imports and locks ------------------------------------------------------
    def _threading_imports(self) -> tuple[list[str], dict[str, str]]:
        aliases: list[str] = []
        names: dict[str, str] = {}
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Import):
                aliases += [alias.asname or "threading" for alias in stmt.names if alias.name == "threading"]
            elif isinstance(stmt, ast.ImportFrom) and stmt.module == "threading" and not stmt.level:
                for alias in stmt.names:
                    if alias.name != "*":
                        names[alias.name] = alias.asname or alias.name
        return aliases, names

    def lock_kind(self, expr: ast.AST, modules: frozenset[str] = LOCK_MODULES) -> str | None:
        """``"RLock"`` for ``threading.RLock()`` (and a ``Condition()`` without a lock, which
        is reentrant), the factory's name for other lock factories of ``modules``, None for
        anything else."""
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        kind = None
        if isinstance(func, ast.Attribute) and func.attr in LOCK_FACTORIES:
            mod = dotted(func.value)
            if mod in modules or mod in self.threading_aliases:
                kind = func.attr
        elif isinstance(func, ast.Name):
            kind = next((f for f in LOCK_FACTORIES if self.threading_names.get(f) == func.id), None)
        if kind == "Condition" and not expr.args and not expr.keywords:
            return "RLock"
        return kind

    def is_lock_factory_call(self, expr: ast.AST) -> bool:
        return self.lock_kind(expr) is not None

    def is_reentrant_lock(self, code: str) -> bool:
        """True if the lock named by ``code`` (``_lock``, ``self._lock``) is only ever bound
        to an ``RLock``: taking it again on the same thread cannot deadlock."""
        return self._lock_kinds.get(code.rsplit(".", 1)[-1]) == {"RLock"}

    def is_lock_expr(self, expr: ast.AST) -> bool:
        if isinstance(expr, ast.Name):
            name = expr.id
        elif isinstance(expr, ast.Attribute):
            name = expr.attr
        else:
            return False  # e.g. `with threading.Lock():` guards nothing
        return name in self.lock_identifiers or looks_like_lock_name(name)

    def class_lock_attrs(self, cls: ast.ClassDef) -> tuple[list[str], list[str]]:
        """Lock attributes of ``cls``: (class-level, instance-level), in source order (the
        lists are shared: do not change them)."""
        known = self._class_locks.get(cls)
        if known is None:
            known = self._class_locks[cls] = self._find_class_lock_attrs(cls)
        return known

    def _find_class_lock_attrs(self, cls: ast.ClassDef) -> tuple[list[str], list[str]]:
        class_level, instance_level = [], []
        for stmt in cls.body:
            if isinstance(stmt, FUNCTIONS):
                if self.method_kind(stmt) != "instance":
                    continue
                receiver = self.first_param(stmt)
                for node in iter_function_nodes(stmt):
                    for target, value in _assignments(node):
                        if (
                            isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            and target.value.id == receiver
                            and (self.is_lock_factory_call(value) or (looks_like_lock_name(target.attr) and isinstance(value, ast.Call)))
                            and target.attr not in instance_level
                        ):
                            instance_level.append(target.attr)
                continue
            for target, value in _assignments(stmt):
                if isinstance(target, ast.Name) and (
                    self.is_lock_factory_call(value) or (looks_like_lock_name(target.id) and isinstance(value, ast.Call))
                ):
                    class_level.append(target.id)
        return class_level, instance_level
