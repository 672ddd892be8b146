"""FT002's ``ast`` necessary condition (``CheckThenAct.candidate``) and its text test.

Moved unchanged from the LibCST rule module: the shapes check() needs, on the standard
library's ``ast``, so that files without them never reach check()."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from codemods.ft002_detect import changed_in, tested as tested_containers
from ftmigrate.bindings import FUNCTION_DEFS, dotted, identifiers_of

# The shapes check() needs, mirrored on the standard-library ``ast``.
# Every test here must hold wherever check() finds a site, so where the ``ast`` cannot tell
# what LibCST sees (which scope owns a name, how a closure escapes), it errs towards True.

_AST_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_AST_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_AST_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
# The text of any file check() reports on: the keyword ``in`` (never spelled otherwise; a
# number may come right before it, as in ``1in c``) or the identifier ``get``.
TEST_WORD = re.compile(r"in(?!\w)|(?<!\w)get(?!\w)")


def _ast_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists directly inside a compound statement."""
    blocks = [getattr(stmt, name) for name in ("body", "orelse", "finalbody") if hasattr(stmt, name)]
    blocks += [handler.body for handler in getattr(stmt, "handlers", ())]
    blocks += [case.body for case in getattr(stmt, "cases", ())]
    return blocks


def _own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of a scope's own code: nested functions and classes are listed,
    not entered."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if not isinstance(stmt, _AST_SCOPES):
            for block in reversed(_ast_blocks(stmt)):
                stack.extend(reversed(block))


def _own_walk(roots: list[ast.AST]) -> Iterator[ast.AST]:
    """``roots`` and every node below them, not entering nested functions, classes or
    lambdas (like ``own_nodes``)."""
    stack = list(roots)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _AST_SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def _tested(test: ast.expr) -> set[str]:
    """Containers ``test`` asks about (``tested``), only those ``Resolver.resolve`` can
    place: a name or ``receiver.attribute``."""
    return {code for code in map(dotted, tested_containers(test)) if code is not None and code.count(".") <= 1}


def _alias_name(alias: ast.alias) -> str:
    return alias.asname or alias.name.split(".")[0]


def _any_bindings(roots: list[ast.AST]) -> set[str]:
    """A superset of the names ``roots`` bind in their own scope, by any means."""
    names: set[str] = set()
    for node in _own_walk(roots):
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(_alias_name(node))
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            if node.name:
                names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


class _AstFunction:
    """What ``_Resolver`` asks of one function, from its ``ast``; worked out on demand.

    Only ever says "maybe shared": ``resolve``'s negative tests (a local or parameter, a
    ``staticmethod``) are left out, since LibCST compares names as written and the ``ast``
    after NFKC normalisation (``ｓｅｅｎ`` is ``seen`` here, not there)."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: tuple, method_of: ast.ClassDef | None) -> None:
        self.node = node
        self.outer: tuple[_AstFunction, ...] = outer  # enclosing functions, nearest first
        self.method_of = method_of  # the class whose body defines it
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        self.first_param = positional[0].arg if positional else None
        self._declared: tuple[set[str], set[str]] | None = None
        self._bindings: set[str] | None = None
        self._escapes: bool | None = None

    def declared(self) -> tuple[set[str], set[str]]:
        """(``global`` names, ``nonlocal`` names) of its own code."""
        if self._declared is None:
            globals_, nonlocals = set(), set()
            for stmt in _own_statements(self.node.body):
                if isinstance(stmt, ast.Global):
                    globals_.update(stmt.names)
                elif isinstance(stmt, ast.Nonlocal):
                    nonlocals.update(stmt.names)
            self._declared = (globals_, nonlocals)
        return self._declared

    def may_own(self, name: str) -> bool:
        """``name`` may be a local or parameter of this function (a closure's owner)."""
        if self._bindings is None:
            args = self.node.args
            params = (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
            self._bindings = {a.arg for a in params if a is not None} | _any_bindings(self.node.body)
        return name in self._bindings

    def escapes(self) -> bool:
        """Some function defined here may leave it (a superset of ``inner_functions_escape``:
        its name is used other than as the function of a call)."""
        if self._escapes is None:
            defined = [s for s in _own_statements(self.node.body) if isinstance(s, _AST_FUNCTIONS)]
            inner = {s.name for s in defined}
            decorated = any(s.decorator_list for s in defined)
            self._escapes = bool(inner) and (decorated or _used_not_called(self.node.body, inner))
        return self._escapes


# What names a function or parameter rather than using it: not a use of the name.
_DEFINED = (*FUNCTION_DEFS, ast.arg)


def _used_not_called(body: list[ast.stmt], names: set[str]) -> bool:
    """One of ``names`` occurs in ``body`` (nested functions included) other than as a
    called name outside lambdas (LibCST sees a Name node in attributes, keywords, imports
    and declarations too)."""
    nodes = [n for stmt in body for n in ast.walk(stmt)]
    in_lambdas = {id(n) for lam in nodes if isinstance(lam, ast.Lambda) for n in ast.walk(lam.body)}
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call) and id(n) not in in_lambdas}
    for node in nodes:
        if isinstance(node, ast.Name):
            if node.id in names and id(node) not in called:
                return True
        elif not isinstance(node, _DEFINED) and not names.isdisjoint(identifiers_of(node)):
            return True
    return False


class _AstScan:
    """Looks for one ``if`` that check() would make a candidate of (tests a container it
    or what follows then changes, and the container may be shared state)."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self._module_assigned: set[str] | None = None
        self._class_bindings: dict[str, set[str]] = {}
        self.classes: dict[str, list[ast.ClassDef]] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef):
                self.classes.setdefault(stmt.name, []).append(stmt)

    def found(self) -> bool:
        return self._block(self.tree.body, (), None, False)

    def _block(self, body: list[ast.stmt], functions: tuple, cls: ast.ClassDef | None, in_function: bool) -> bool:
        """``functions``: the enclosing functions, nearest first; ``cls``: the class whose
        body ``body`` is; ``in_function``: the nearest scope is a function."""
        for i, stmt in enumerate(body):
            if isinstance(stmt, _AST_FUNCTIONS):
                function = _AstFunction(stmt, functions, cls)
                if self._block(stmt.body, (function, *functions), None, True):
                    return True
            elif isinstance(stmt, ast.ClassDef):
                if self._block(stmt.body, functions, stmt, False):
                    return True
            elif isinstance(stmt, ast.If):
                if in_function and self._if(functions[0], stmt, body[i + 1 :]):
                    return True
                node = stmt
                while True:  # the `elif`s were checked as links of this chain
                    if self._block(node.body, functions, None, in_function):
                        return True
                    if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                        node = node.orelse[0]
                    else:
                        break
                if self._block(node.orelse, functions, None, in_function):
                    return True
            else:
                for block in _ast_blocks(stmt):
                    if self._block(block, functions, None, in_function):
                        return True
        return False

    def _if(self, function: _AstFunction, stmt: ast.If, after: list[ast.stmt]) -> bool:
        """As ``checked_then_changed``, then ``_Resolver.resolve`` (an ``else: if`` is
        taken for an ``elif``: that only adds links)."""
        links = [stmt]
        while len(links[-1].orelse) == 1 and isinstance(links[-1].orelse[0], ast.If):
            links.append(links[-1].orelse[0])
        tested = [_tested(link.test) for link in links]
        if not any(tested):
            return False
        final = links[-1].orelse
        changed = [changed_in(link.body) for link in links] + [changed_in(final) if final else set()]
        changed_after = None
        for i, link in enumerate(links):
            if not tested[i]:
                continue
            codes = tested[i] & set().union(*changed[i:])
            if not final and link.body and isinstance(link.body[-1], _AST_EXITS):
                if changed_after is None:
                    changed_after = changed_in(after)
                codes |= tested[i] & changed_after
            if any(self._shared(function, code) for code in codes):
                return True
        return False

    def _shared(self, function: _AstFunction, code: str) -> bool:
        """A superset of the codes ``_Resolver.resolve`` places (gives a Container for):
        ``self.x`` in a method whose first parameter is ``self``, ``Cls.x`` for a module-level
        class binding ``x``; a name declared ``global``, one an enclosing function may bind
        when this one declares it ``nonlocal`` or that one may let an inner function out, or
        one bound at module level (not by ``def``, ``class`` or ``import`` there)."""
        if "." in code:
            root, attr = code.split(".")
            if function.method_of is not None and function.first_param == root:
                return True
            return root in self.classes and attr in self.class_bindings(root)
        globals_, nonlocals = function.declared()
        if code in globals_:
            return True
        if any(outer.may_own(code) and (code in nonlocals or outer.escapes()) for outer in function.outer):
            return True
        return code in self.module_assigned()

    def module_assigned(self) -> set[str]:
        """A superset of ``_Resolver.module_assigned``."""
        if self._module_assigned is None:
            skipped = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
            self._module_assigned = _any_bindings([s for s in self.tree.body if not isinstance(s, skipped)])
        return self._module_assigned

    def class_bindings(self, name: str) -> set[str]:
        """A superset of ``_class_bindings`` of the module-level class ``name``."""
        if name not in self._class_bindings:
            self._class_bindings[name] = set().union(*(_any_bindings(cls.body) for cls in self.classes[name]))
        return self._class_bindings[name]


def has_candidate(tree: ast.Module) -> bool:
    """Some ``if`` of ``tree`` is one check() may make a candidate of (``CheckThenAct.candidate``)."""
    return _AstScan(tree).found()
