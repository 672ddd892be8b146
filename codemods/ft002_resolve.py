"""Which shared state a container expression of FT002 names (``seen``, ``self.items``,
``cls.registry``, ``Plugin.registry``), seen from one function, and whether it is a dict."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from codemods.ft002_detect import lines
from ftmigrate.analysis import FileContext
from ftmigrate.bindings import FUNCTIONS, Function, dotted, parameter_names, top_level_bindings, walk
from ftmigrate.closures import closure_escapes
from ftmigrate.fixes import MODULE, Domain

_DICT_FACTORIES = frozenset({"dict", "defaultdict", "OrderedDict", "collections.defaultdict", "collections.OrderedDict"})


@dataclass(frozen=True)
class Container:
    """Shared state an ``if`` tests and changes: ``code`` as written (``self.items``) and
    where its lock lives."""

    code: str
    state: str  # the bare name, used for the lock's name and placement
    domain: Domain
    where: str  # module | closure | instance | class, for the message
    receiver: str | None = None


def is_dict_value(expr: ast.expr | None) -> bool:
    """``{...}``, a dict comprehension, or a call of ``dict``/``defaultdict``/``OrderedDict``."""
    if isinstance(expr, (ast.Dict, ast.DictComp)):
        return True
    return isinstance(expr, ast.Call) and dotted(expr.func) in _DICT_FACTORIES


def _indented(ctx, body: list[ast.stmt]) -> list[ast.stmt]:
    """``body``, or nothing when it is written on its header's line (``class A: x = 1``:
    LibCST's ``SimpleStatementSuite``, which the LibCST rule did not look into)."""
    return body if ctx.source.starts_line(body[0]) else []


class Resolver:
    """Which shared state a container expression names, seen from one function."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.module_assigned = self._module_assigned()
        self.classes = {s.name: s for s in ctx.tree.body if isinstance(s, ast.ClassDef)}
        self._scopes: dict[int, tuple[set[str], set[str], set[str]]] = {}

    def _scope(self, func: Function) -> tuple[set[str], set[str], set[str]]:
        """(``global`` names, ``nonlocal`` names, locals and parameters) of ``func``, computed once."""
        if id(func) not in self._scopes:
            ctx = self.ctx
            self._scopes[id(func)] = (
                ctx.declared(func, ast.Global),
                ctx.declared(func, ast.Nonlocal),
                ctx.local_bindings(func) | parameter_names(func),
            )
        return self._scopes[id(func)]

    def _module_assigned(self) -> set[str]:
        """Module names bound by assignment (not by def, class or import; LibCST skipped a
        whole line holding an import, ``import os; x = {}``)."""
        names: set[str] = set()
        for line in lines(self.ctx, self.ctx.tree.body):
            if any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in line):
                continue
            for stmt in line:
                if not isinstance(stmt, (*FUNCTIONS, ast.ClassDef)):
                    names |= top_level_bindings(stmt)
        return names

    def inner_functions_escape(self, owner: Function) -> bool:
        """A function defined in ``owner`` leaves it (returned, stored, handed to a thread),
        so its closure variables can outlive the call and be shared. Functions only ever
        called in place (``get_abbr(i)``) share their closure with that one call alone."""
        return closure_escapes(self.ctx, owner) is not None

    def closure_owner(self, func: Function, name: str) -> Function | None:
        """The enclosing function whose local ``name`` ``func`` uses (free or ``nonlocal``)."""
        for ancestor in self.ctx.ancestors(func):
            if isinstance(ancestor, FUNCTIONS):
                globals_, nonlocals, locals_ = self._scope(ancestor)
                if name in globals_:
                    return None
                if name in locals_ and name not in nonlocals:
                    return ancestor
        return None

    def resolve(self, func: Function, code: str) -> Container | None:
        """``seen``, ``self.items``, ``cls.registry`` or ``Plugin.registry`` as seen from
        ``func``; None for a local or parameter, or anything we cannot place a lock for."""
        ctx = self.ctx
        globals_, nonlocals, locals_ = self._scope(func)
        parts = code.split(".")
        if len(parts) == 1:
            name = parts[0]
            if name in globals_:
                return Container(code, name, MODULE, "module")
            if name in locals_ and name not in nonlocals:
                return None
            owner = self.closure_owner(func, name)
            if owner is not None:
                if name in nonlocals or self.inner_functions_escape(owner):
                    return Container(code, name, Domain("closure", owner), "closure")
                return None
            if name in self.module_assigned:
                return Container(code, name, MODULE, "module")
            return None
        if len(parts) != 2:
            return None
        root, attr = parts
        cls = ctx.method_class(func)
        if cls is not None and ctx.first_param(func) == root:
            kind = ctx.method_kind(func)
            if kind in ("instance", "class"):
                return Container(code, attr, Domain(kind, cls), kind, receiver=root)
            return None
        cls = self.classes.get(root)
        if cls is not None and root not in locals_ and attr in self._class_bindings(cls):
            return Container(code, attr, Domain("class", cls), "class", receiver=root)
        return None

    def _class_bindings(self, cls: ast.ClassDef) -> set[str]:
        names: set[str] = set()
        for stmt in _indented(self.ctx, cls.body):
            names |= top_level_bindings(stmt)
        return names

    def is_dict(self, container: Container) -> bool:
        """Every assignment of the container makes a dict (so ``pop``/``setdefault`` are
        the dict's own atomic methods)."""
        values = self._assigned_values(container)
        return bool(values) and all(is_dict_value(v) for v in values)

    def _assigned_values(self, container: Container) -> list[ast.expr | None]:
        """The value of each binding of the container (None: not a plain assignment), as
        LibCST's scope assignments have them."""
        ctx, domain = self.ctx, container.domain
        if domain.kind in ("module", "closure"):
            if domain.kind == "module":
                nodes = ctx.global_bindings.get(container.state, [])
            else:
                nodes = ctx.function_bindings(domain.owner).get(container.state, [])
            values = []
            for node in nodes:
                parent = ctx.parent(node) if isinstance(node, ast.Name) else None
                if isinstance(parent, ast.Assign) and any(t is node for t in parent.targets):
                    values.append(parent.value)
                elif isinstance(parent, ast.AnnAssign) and parent.target is node:
                    if parent.value is not None:  # `d: dict[str, int]` alone binds nothing
                        values.append(parent.value)
                else:
                    values.append(None)
            return values
        cls, attr = domain.owner, container.state
        values = []
        for stmt in _indented(ctx, cls.body):
            values += [v for t, v in _assignments(stmt) if isinstance(t, ast.Name) and t.id == attr]
        for node in walk(cls):
            values += [
                v for t, v in _assignments(node)
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.attr == attr
            ]
        return values


def _assignments(node: ast.AST) -> list[tuple[ast.expr, ast.expr | None]]:
    if isinstance(node, ast.Assign):
        return [(t, node.value) for t in node.targets]
    if isinstance(node, ast.AnnAssign):
        return [(node.target, node.value)] if node.value is not None else []
    if isinstance(node, ast.AugAssign):
        return [(node.target, None)]
    return []
