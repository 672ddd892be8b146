"""Which names each scope of a module binds, as LibCST's ``ScopeProvider`` has them: the
bindings part of ``ftmigrate.analysis.FileContext`` (a mixin: it uses the context's
``find``, ``ancestors`` and ``tree``)."""

from __future__ import annotations

import ast
from functools import cached_property

from ftmigrate.astwalk import (  # noqa: F401
    FUNCTION_BOUNDARY,
    FUNCTIONS,
    Function,
    iter_function_nodes,
    walk,
)
from ftmigrate.bindings import (
    own_bindings,
    parameters,
    scope_bindings,
    top_level_bindings,
)


class ScopeFacts:
    # --- bindings -------------------------------------------------------------------------
    def local_bindings(self, func: Function) -> set[str]:
        """Names assigned in ``func``'s own scope (not those declared global or nonlocal):
        what LibCST's ``ScopeProvider`` records there, found by one walk of the function."""
        if func not in self._own_bindings:
            self._own_bindings[func] = own_bindings(func)
        return self._own_bindings[func] - self.declared(func, ast.Global) - self.declared(func, ast.Nonlocal)

    def declared(self, func: Function, kind: type) -> set[str]:
        """Names a function declares ``global`` (kind=ast.Global) or ``nonlocal``."""
        return set(self._declarations.get((func, kind), ()))

    @cached_property
    def _declarations(self) -> dict[tuple[Function, type], set[str]]:
        # Each global/nonlocal statement belongs to the function whose own code holds it
        # (the nearest enclosing function, unless a class comes first).
        found: dict[tuple[Function, type], set[str]] = {}
        for statement in self.find((ast.Global, ast.Nonlocal)):
            owner = next(a for a in self.ancestors(statement) if isinstance(a, FUNCTION_BOUNDARY))
            if isinstance(owner, FUNCTIONS):
                found.setdefault((owner, type(statement)), set()).update(statement.names)
        return found

    @cached_property
    def global_bindings(self) -> dict[str, list[ast.AST]]:
        """name -> the nodes binding it in the module's global scope (``scope_bindings``'
        nodes), as LibCST's ``GlobalScope.assignments`` has them: module-level code, and
        the code of functions and classes that declare the name ``global``."""
        found: dict[str, list[ast.AST]] = {}
        for name, node in scope_bindings(self.tree):
            found.setdefault(name, []).append(node)
        declaring: dict[int, tuple[ast.AST, set[str]]] = {}  # function or class -> its global names
        for statement in self.find(ast.Global):
            owner = next(a for a in self.ancestors(statement) if isinstance(a, FUNCTION_BOUNDARY))
            if not isinstance(owner, ast.Module):
                declaring.setdefault(id(owner), (owner, set()))[1].update(statement.names)
        for owner, declared in declaring.values():
            for name, node in scope_bindings(owner.body, skip=owner):
                if name in declared:
                    found.setdefault(name, []).append(node)
        return found

    def function_bindings(self, func: Function) -> dict[str, list[ast.AST]]:
        """name -> the nodes binding it in ``func``'s own scope, as LibCST's scope for the
        function's body has them (``ctx.scopes[func.body].assignments``): its parameters
        (the ``ast.arg``), ``scope_bindings`` of its body, and of nested functions that
        declare the name ``nonlocal`` (and do not bind it themselves first)."""
        found: dict[str, list[ast.AST]] = {}
        for param in parameters(func):
            found.setdefault(param.arg, []).append(param)
        for name, node in scope_bindings(func.body, skip=func):
            if name not in self.declared(func, ast.Global) and name not in self.declared(func, ast.Nonlocal):
                found.setdefault(name, []).append(node)
        for inner in _inner_functions(func):
            for name, nodes in self._escaping_bindings(inner).items():
                if name in found:
                    found[name] += nodes
        return found

    def _escaping_bindings(self, func: Function) -> dict[str, list[ast.AST]]:
        """Bindings made in ``func`` (or in functions inside it) of names declared
        ``nonlocal`` there: they land in an enclosing function's scope."""
        names = self.declared(func, ast.Nonlocal)
        found: dict[str, list[ast.AST]] = {}
        for name, node in scope_bindings(func.body, skip=func):
            if name in names:
                found.setdefault(name, []).append(node)
        bound_here = self.local_bindings(func)
        for inner in _inner_functions(func):
            for name, nodes in self._escaping_bindings(inner).items():
                if name in names or name not in bound_here:
                    found.setdefault(name, []).extend(nodes)
        return found

    def resolves_globally(self, func: Function, name: str) -> bool:
        """Whether ``name`` used in ``func``'s own code means the module's global (LibCST's
        scope lookup: local, then enclosing functions, classes skipped, then global)."""
        scope: ast.AST | None = func
        while isinstance(scope, FUNCTIONS):
            if name in self.declared(scope, ast.Global):
                return True
            if name in self.local_bindings(scope):  # bound here, and not declared nonlocal
                return False
            scope = next((a for a in self.ancestors(scope) if isinstance(a, (*FUNCTIONS, ast.Lambda, ast.Module))), None)
        return isinstance(scope, ast.Module)

    def module_bindings(self) -> set[str]:
        names: set[str] = set()
        for stmt in self.tree.body:
            names.update(top_level_bindings(stmt))
        return names


def _inner_functions(func: Function) -> list[Function]:
    """Functions defined in ``func``'s code, also as methods of classes there (a class
    scope does not stand between them and ``func``), not inside those functions."""
    return [node for node in walk(func.body, prune=FUNCTIONS) if isinstance(node, FUNCTIONS)]
