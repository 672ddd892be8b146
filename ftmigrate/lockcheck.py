"""Semantic proof obligations for every inserted lock, checked on the written text.

``verify.check_rewrite`` proves that a rewrite adds nothing but lock code; this module
proves that the lock code is sound, whatever rule asked for it. It reads the standard
library's ``ast`` of the file before and after, on its own: it does not trust the
planner's reasoning (``ftmigrate.threadlocks``), it checks the outcome again.

An inserted ``with L:`` is one more ``with L:`` in a function than the input had (all
``with L:`` of that function are then checked). For each:
- it is not inside an ``async def`` (a thread lock there blocks the event loop);
- it is not nested in another inserted lock (no lock ordering is introduced);
- its body does not assign ``L`` (a lock taken by the code that creates it);
- ``L`` is a lock the rewrite defined (``name = threading.Lock()`` at module level or in
  an enclosing function; ``name = ...`` in the body of the method's class for
  ``self.name``/``cls.name``/``Owner.name``), or an existing one the input binds to a
  ``threading`` lock factory: every assignment of that name (attribute) is such a call,
  by a statement of the module or class body, or of ``__init__`` for an instance lock;
  an instance lock is not taken in ``__new__``, ``__setstate__``, ``__reduce__``,
  ``__reduce_ex__``, ``__copy__``, ``__deepcopy__``, ``__getnewargs(_ex)__``, a class or
  static method, nor in ``__init__`` before its assignment, nor in a class whose
  ``__setstate__`` never binds it.
"""

from __future__ import annotations

import ast
from collections import Counter

_FACTORIES = frozenset({"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore"})
_BYPASS_INIT = frozenset(
    {"__new__", "__setstate__", "__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__", "__getnewargs__", "__getnewargs_ex__"}
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class _Module:
    """One tree with parent links and what it imports from ``threading``."""

    def __init__(self, text: str) -> None:
        self.tree = ast.parse(text)
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.modules = {"threading"}
        self.factories: set[str] = set()
        for node in self.tree.body:
            if isinstance(node, ast.Import):
                self.modules |= {a.asname or a.name for a in node.names if a.name in ("threading", "_thread")}
            elif isinstance(node, ast.ImportFrom) and node.module == "threading" and not node.level:
                self.factories |= {a.asname or a.name for a in node.names if a.name in _FACTORIES}

    def is_factory_call(self, value: ast.AST | None) -> bool:
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.modules:
            return func.attr in _FACTORIES or func.attr == "allocate_lock"
        return isinstance(func, ast.Name) and func.id in self.factories

    def function_of(self, node: ast.AST) -> ast.AST | None:
        node = self.parents.get(node)
        while node is not None and not isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            node = self.parents.get(node)
        return node if isinstance(node, _FUNCTIONS) else None

    def class_of(self, function: ast.AST | None) -> ast.ClassDef | None:
        parent = self.parents.get(function) if function is not None else None
        return parent if isinstance(parent, ast.ClassDef) else None

    def lock_withs(self, exprs: set[str]) -> list[tuple[ast.With, str]]:
        return [
            (node, ast.unparse(node.items[0].context_expr))
            for node in ast.walk(self.tree)
            if isinstance(node, ast.With)
            and len(node.items) == 1
            and node.items[0].optional_vars is None
            and ast.unparse(node.items[0].context_expr) in exprs
        ]

    def scope_key(self, node: ast.AST) -> str:
        names = []
        while node is not None:
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                names.append(node.name)
            node = self.parents.get(node)
        return ".".join(reversed(names))


def _assignments(body: list[ast.stmt]) -> list[tuple[ast.expr, ast.expr | None]]:
    out = []
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            out += [(target, stmt.value) for target in stmt.targets]
        elif isinstance(stmt, ast.AnnAssign):
            out.append((stmt.target, stmt.value))
    return out


def _all_assignments(tree: ast.AST) -> list[tuple[ast.expr, ast.expr | None]]:
    return _assignments([n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign))])


def _first_param(function: ast.AST) -> str | None:
    params = [*function.args.posonlyargs, *function.args.args]
    return params[0].arg if params else None


def _method(cls: ast.ClassDef, name: str) -> ast.AST | None:
    return next((s for s in cls.body if isinstance(s, _FUNCTIONS) and s.name == name), None)


def _decorators(function: ast.AST) -> set[str]:
    return {d.id for d in function.decorator_list if isinstance(d, ast.Name)}


def lock_problems(old: str, new: str, exprs: set[str], created: set[str]) -> str | None:
    """The first broken obligation of the inserted ``with`` statements, else None."""
    before, after = _Module(old), _Module(new)
    had = Counter(before.scope_key(w) + "|" + e for w, e in before.lock_withs(exprs))
    withs = after.lock_withs(exprs)
    counts = Counter(after.scope_key(w) + "|" + e for w, e in withs)
    grown = {key for key, n in counts.items() if n > had[key]}
    inserted = [(w, e) for w, e in withs if after.scope_key(w) + "|" + e in grown]
    inserted_ids = {id(w) for w, _ in inserted}
    for with_, expr in inserted:
        where = f"the inserted `with {expr}:` (line {with_.lineno})"
        function = after.function_of(with_)
        if isinstance(function, ast.AsyncFunctionDef):
            return f"{where} is inside `async def {function.name}`"
        outer = after.parents.get(with_)
        while outer is not None and outer is not function:
            if id(outer) in inserted_ids:
                return f"{where} is nested in the inserted `with` of line {outer.lineno}"
            outer = after.parents.get(outer)
        if any(ast.unparse(target) == expr for target, _ in _all_assignments(ast.Module(body=with_.body, type_ignores=[]))):
            return f"{where} guards the code that creates that lock"
        problem = _unbound(after, before, with_, expr, function, created)
        if problem is not None:
            return f"{where}: {problem}"
    return None


def _unbound(after: _Module, before: _Module, with_: ast.With, expr: str, function: ast.AST | None, created: set[str]) -> str | None:
    """Why ``expr`` is not a lock that exists where ``with_`` takes it, else None."""
    node = ast.parse(expr, mode="eval").body
    if function is None:
        return "it is not inside a function"
    if isinstance(node, ast.Name):
        tree = before
        scopes = [after.tree.body] + [f.body for f in _enclosing_functions(after, function)]
        if node.id in created:
            defined = any(
                isinstance(t, ast.Name) and t.id == node.id and after.is_factory_call(v)
                for body in scopes for t, v in _assignments(body)
            )
            return None if defined else f"`{node.id}` is not defined as a threading lock where it is used"
        if _binds_locally(function, node.id):
            return f"`{node.id}` is the function's own: a new lock on every call"
        if _module_lock(tree, node.id) or any(_closure_lock(after, f, node.id) for f in _enclosing_functions(after, function)):
            return None
        return f"`{node.id}` is not bound to a threading lock by the module or an enclosing function"
    if not isinstance(node, ast.Attribute):
        return f"`{expr}` is not a lock ftmigrate created or proved"
    holder = node.value
    if isinstance(holder, ast.Call) and ast.unparse(holder.func) == "type" and len(holder.args) == 1 and not holder.keywords:
        holder = holder.args[0]  # type(self).name: the class of the method's own object
    elif isinstance(holder, ast.Attribute) and holder.attr == "__class__":
        holder = holder.value  # self.__class__.name, the same
    if not isinstance(holder, ast.Name):
        return f"`{expr}` is not a lock ftmigrate created or proved"
    cls = after.class_of(function)
    own = cls is not None and holder.id == _first_param(function)
    if not own:
        cls = next((s for s in after.tree.body if isinstance(s, ast.ClassDef) and s.name == holder.id), None)
    if cls is None:
        return f"`{expr}` is not an attribute of the method's class"
    attr = node.attr
    tree = after if attr in created else before
    source_cls = cls if tree is after else next(
        (s for s in ast.walk(before.tree) if isinstance(s, ast.ClassDef) and s.name == cls.name), None
    )
    if source_cls is None:
        return f"`{expr}`: its class is not in the input"
    class_values = [v for t, v in _assignments(source_cls.body) if isinstance(t, ast.Name) and t.id == attr]
    if class_values:
        ok = all(tree.is_factory_call(v) for v in class_values)
        return None if ok else f"`{cls.name}.{attr}` is not bound to a threading lock"
    if attr in created:
        return f"`{cls.name}.{attr}` is not defined in the class"
    return _instance_lock(before, source_cls, attr, function, with_, expr)


def _enclosing_functions(module: _Module, function: ast.AST) -> list[ast.AST]:
    found, node = [], module.parents.get(function)
    while node is not None:
        if isinstance(node, _FUNCTIONS):
            found.append(node)
        node = module.parents.get(node)
    return found


def _binds_locally(function: ast.AST, name: str) -> bool:
    declared = {n for s in ast.walk(function) if isinstance(s, (ast.Global, ast.Nonlocal)) for n in s.names}
    return name not in declared and any(
        isinstance(t, ast.Name) and t.id == name for t, _ in _all_assignments(ast.Module(body=function.body, type_ignores=[]))
    )


def _closure_lock(module: _Module, owner: ast.AST, name: str) -> bool:
    top = [v for t, v in _assignments(owner.body) if isinstance(t, ast.Name) and t.id == name]
    everywhere = [v for t, v in _all_assignments(owner) if isinstance(t, ast.Name) and t.id == name]
    return bool(top) and all(module.is_factory_call(v) for v in everywhere)


def _module_lock(module: _Module, name: str) -> bool:
    top = [v for t, v in _assignments(module.tree.body) if isinstance(t, ast.Name) and t.id == name]
    everywhere = [v for t, v in _all_assignments(module.tree) if isinstance(t, ast.Name) and t.id == name]
    return bool(top) and all(module.is_factory_call(v) for v in everywhere)


def _instance_lock(before: _Module, cls: ast.ClassDef, attr: str, function: ast.AST, with_: ast.With, expr: str) -> str | None:
    if isinstance(function, _FUNCTIONS) and (
        function.name in _BYPASS_INIT or _decorators(function) & {"classmethod", "staticmethod"}
    ):
        return f"`{expr}` is an instance lock, and `{function.name}` may run before `__init__` creates it"
    if not all(before.is_factory_call(v) for t, v in _all_assignments(before.tree) if isinstance(t, ast.Attribute) and t.attr == attr):
        return f"`{expr}` is not always bound to a threading lock"
    init = _method(cls, "__init__")
    receiver = _first_param(init) if init is not None else None
    direct = [
        stmt for stmt in (init.body if init is not None else [])
        if any(isinstance(t, ast.Attribute) and t.attr == attr and isinstance(t.value, ast.Name) and t.value.id == receiver
               and before.is_factory_call(v) for t, v in _assignments([stmt]))
    ]
    if not direct:
        return f"`{expr}` is not created by `{cls.name}.__init__`"
    setstate = _method(cls, "__setstate__")
    if setstate is not None and not any(isinstance(t, ast.Attribute) and t.attr == attr for t, _ in _all_assignments(setstate)):
        return f"`{cls.name}.__setstate__` restores instances without `{expr}`"
    if isinstance(function, _FUNCTIONS) and function.name == "__init__" and _before_init_assignment(with_, direct[0], function):
        return f"`{expr}` is taken in `__init__` before it is created"
    return None


def _before_init_assignment(with_: ast.With, assignment: ast.stmt, init: ast.AST) -> bool:
    # Line numbers of the rewritten file are not the input's: compare statement order in __init__.
    rewritten = next((i for i, s in enumerate(init.body) if s is with_ or any(n is with_ for n in ast.walk(s))), None)
    names = [ast.dump(s) for s in init.body]
    created = next((i for i, dump in enumerate(names) if dump == ast.dump(assignment)), None)
    return rewritten is None or created is None or rewritten <= created
