"""FT004: which shared state an item or attribute written in a function belongs to, and so
where its lock lives (module, class, instances, the function object itself), on ``ast``."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from codemods.ft004_shapes import CLASS_CREATION, CONSTRUCTORS, attributes_written, item_base, only_argument
from ftmigrate.analysis import FUNCTIONS, FileContext, Function, iter_function_nodes, own_bindings, scope_bindings
from ftmigrate.fixes import MODULE, Domain
from ftmigrate.sharing import is_thread_subclass, shared_by_design, shared_class_reason, thread_entry_methods

# What ``scope_bindings`` gives for a name bound by an assignment (``for``, ``with ... as``,
# walrus...) or by ``except ... as``: LibCST's ``Name`` in both cases.
_ASSIGNED = (ast.Name, ast.ExceptHandler)


@dataclass(frozen=True)
class SharedState:
    """What a target belongs to, and so where its lock lives."""

    domain: Domain
    state: str  # key of the state within the domain (and the stem of a new lock's name)
    where: str  # for the message
    receiver: str | None = None  # how the code names the object holding a class/instance lock
    anchor: str | None = None  # module-level name after which a new module lock goes
    unfixable: str | None = None  # why no lock is added, for state reported only


def _module_binding(ctx: FileContext, name: ast.Name) -> ast.AST | None:
    """The one kind of module-level statement ``name`` refers to where it is used (an
    ``Import``/``ImportFrom``, ``ClassDef``, or an ``_ASSIGNED`` node), else None."""
    func = ctx.enclosing_function(name)
    if func is None or not ctx.resolves_globally(func, name.id):
        return None
    assignments = ctx.global_bindings.get(name.id, [])
    if not assignments:
        return None
    kinds = {type(node) for node in assignments}
    if kinds <= {ast.Import, ast.ImportFrom}:
        return assignments[0]
    if len(assignments) == 1 and kinds == {ast.ClassDef}:
        return assignments[0]
    return assignments[0] if kinds <= set(_ASSIGNED) else None


def _rebound(ctx: FileContext, func: Function) -> set[str]:
    """Names assigned in ``func``'s body: a re-assigned ``self`` no longer names the receiver."""
    return own_bindings(func, params=False) - ctx.declared(func, ast.Global) - ctx.declared(func, ast.Nonlocal)


def _receiver(ctx: FileContext, func: Function, kind: str) -> str | None:
    """``self`` (kind "instance") or ``cls`` (kind "class") of a method, if not re-assigned."""
    if ctx.method_kind(func) != kind:
        return None
    receiver = ctx.first_param(func)
    return receiver if receiver is not None and receiver not in _rebound(ctx, func) else None


def _module_item(ctx: FileContext, base: ast.Name, module_names: set[str]) -> SharedState | None:
    if base.id in module_names and isinstance(_module_binding(ctx, base), (*_ASSIGNED, ast.Import, ast.ImportFrom)):
        return SharedState(MODULE, base.id, f"item of module-level `{base.id}`", anchor=base.id)
    return None


def _own_function_attribute(ctx: FileContext, func: Function, owner: ast.expr, attr: str) -> SharedState | None:
    """``_M.misses`` inside ``def _M``: an attribute of the function object itself, one
    object for every call, from any thread (a memoizing wrapper's hit counter). The name
    must mean that function: it is bound only by that ``def`` in the scope that holds it."""
    if not (isinstance(owner, ast.Name) and owner.id == func.name) or owner.id in ctx.local_bindings(func):
        return None
    scope = next((a for a in ctx.ancestors(func) if isinstance(a, (*FUNCTIONS, ast.ClassDef, ast.Module))), None)
    if isinstance(scope, ast.ClassDef):
        return None  # a method's name is not visible in its own body
    in_function = isinstance(scope, FUNCTIONS)
    root = scope.body if in_function else scope
    bindings = [node for name, node in scope_bindings(root, skip=scope if in_function else None) if name == owner.id]
    if bindings != [func] or (in_function and owner.id in ctx.declared(scope, ast.Global)):
        return None
    where = f"attribute of function `{owner.id}`, shared by all its callers"
    why = f"a lock for `{owner.id}`'s own attribute belongs next to `def {owner.id}`; ftmigrate does not add one there"
    return SharedState(Domain("closure", scope) if in_function else MODULE, f"{owner.id}.{attr}", where, unfixable=why)


def _names_class_of(owner: ast.expr, self_: str) -> bool:
    """``type(self)`` or ``self.__class__``."""
    if isinstance(owner, ast.Attribute):
        return owner.attr == "__class__" and isinstance(owner.value, ast.Name) and owner.value.id == self_
    if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "type":
        arg = only_argument(owner)
        return isinstance(arg, ast.Name) and arg.id == self_
    return False


def _class_attribute(ctx: FileContext, func: Function, owner: ast.expr, attr: str) -> SharedState | None:
    """``cls.total`` in a classmethod, ``type(self).total``, ``self.__class__.total``, and
    ``cls.total`` after ``cls = type(self)``."""
    cls = ctx.method_class(func)
    if func.name in CLASS_CREATION:
        return None
    receiver = ctx.code(owner)
    if isinstance(owner, ast.Name):
        aliases = ctx.class_aliases(func) if cls is not None else {}
        if owner.id in aliases:
            receiver = aliases[owner.id]  # `cls = type(self)`: the lock is `type(self)._x_lock`
        elif cls is None or owner.id != _receiver(ctx, func, "class"):
            return None
    else:
        self_ = _receiver(ctx, func, "instance") if cls is not None else None
        if self_ is None or not _names_class_of(owner, self_):
            return None
    return SharedState(Domain("class", cls), attr, f"class attribute of `{cls.name}`", receiver=receiver, anchor=attr)


def _module_owned(ctx: FileContext, owner: ast.expr, attr: str, module_names: set[str]) -> SharedState | None:
    """``Counter.total`` for a top-level class, ``config.retries`` for an imported module."""
    root = owner
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in module_names:
        return None
    binding = _module_binding(ctx, root)
    if isinstance(binding, ast.ClassDef) and root is owner and any(binding is stmt for stmt in ctx.tree.body):
        return SharedState(Domain("class", binding), attr, f"class attribute of `{root.id}`", receiver=root.id, anchor=attr)
    if isinstance(binding, (ast.Import, ast.ImportFrom)):
        path = f"{ctx.code(owner)}.{attr}"
        return SharedState(MODULE, path, f"attribute of imported `{ctx.code(owner)}`", anchor=root.id)
    return None


def _instance_attribute(ctx: FileContext, func: Function, owner: ast.expr, attr: str) -> SharedState | None:
    """``self.hits`` in a class whose instances are shared between threads."""
    if func.name in CONSTRUCTORS or not isinstance(owner, ast.Name):
        return None
    cls = ctx.method_class(func)
    if cls is None or ctx.method_kind(func) != "instance" or owner.id != ctx.first_param(func):
        return None
    reason = shared_class_reason(ctx, cls)
    if reason is None or _receiver(ctx, func, "instance") is None:
        return None
    if cls.name not in ctx.shared_classes and not _written_by_threads_at_once(ctx, cls, attr):
        return None
    where = f"attribute of `{cls.name}` instances, which are shared between threads: {reason}"
    return SharedState(Domain("instance", cls), attr, where, receiver=owner.id)


def _written_by_threads_at_once(ctx: FileContext, cls: ast.ClassDef, attr: str) -> bool:
    """Can two threads write ``self.attr`` at once? For a class that runs methods in
    threads: yes if a method that writes it is run by several threads (a pool, threads
    started in a loop), or if both a thread's entry method (``run``, a ``Thread`` target)
    and another method write it; a counter only its own thread's ``run()`` updates is not
    shared (even once the class has a lock, which keeps ``apply`` idempotent). For a class
    whose instances are only shared by design (``shared_by_design``: a thread lock
    attribute, a thread-safe queue, its documentation): yes, its methods may be called
    from any thread."""
    entries = thread_entry_methods(ctx, cls)
    if is_thread_subclass(ctx, cls):
        entries.setdefault("run", False)
    if not entries:
        return shared_by_design(ctx, cls) is not None
    writers = _attribute_writers(ctx, cls).get(attr, set())
    return any(entries.get(w) for w in writers) or (len(writers) >= 2 and any(w in entries for w in writers))


def _attribute_writers(ctx: FileContext, cls: ast.ClassDef) -> dict[str, set[str]]:
    """Attribute name -> the methods (not constructors) that assign ``self.<attr>`` or an item of it."""
    cache = ctx.rule_cache.setdefault("FT004.writers", {})
    if cls in cache:
        return cache[cls]
    writers: dict[str, set[str]] = {}
    for method in (s for s in cls.body if isinstance(s, FUNCTIONS)):
        receiver = ctx.first_param(method)
        if method.name in CONSTRUCTORS or ctx.method_kind(method) != "instance" or receiver is None:
            continue
        for node in iter_function_nodes(method):
            for attr in attributes_written(node, receiver):
                writers.setdefault(attr, set()).add(method.name)
    cache[cls] = writers
    return writers


def shared_state(ctx: FileContext, func: Function, target: ast.expr, module_names: set[str]) -> SharedState | None:
    """The shared state ``target`` (an item or attribute written in ``func``) belongs to, or
    None when nothing says it is shared between threads. ``module_names``: names bound at
    module level (checked first: resolving scopes is costly)."""
    base = item_base(target)
    if isinstance(base, ast.Name):
        # A bare name is FT001's; a local container is not shared.
        return _module_item(ctx, base, module_names) if base is not target else None
    if not isinstance(base, ast.Attribute):
        return None
    owner, attr = base.value, base.attr
    return (
        _own_function_attribute(ctx, func, owner, attr)
        or _class_attribute(ctx, func, owner, attr)
        or _instance_attribute(ctx, func, owner, attr)
        or _module_owned(ctx, owner, attr, module_names)
    )
