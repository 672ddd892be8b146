"""FT004: unsynchronised read-modify-write of a shared item or attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst
import libcst.matchers as m
from libcst.metadata import GlobalScope

from ftmigrate.analysis import (
    FileContext,
    binop_operands,
    is_thread_subclass,
    iter_function_nodes,
    shared_class_reason,
    thread_entry_methods,
)
from ftmigrate.locking import MODULE, Domain
from ftmigrate.rules import Example, Rule, Site

_ITEM_OR_ATTRIBUTE = m.Subscript() | m.Attribute()
_ASSIGN_BINOP = m.Assign(targets=[m.AssignTarget(target=_ITEM_OR_ATTRIBUTE)], value=m.BinaryOperation())

_CONTAINER_TYPES = m.Name("dict") | m.Name("list") | m.Name("set") | m.Name("defaultdict") | m.Name("Counter") | m.Name("OrderedDict")
_BUILTIN_CONTAINER = (
    m.Dict() | m.List() | m.Set() | m.DictComp() | m.ListComp() | m.SetComp()
    | m.Call(func=_CONTAINER_TYPES | m.Attribute(value=m.Name("collections"), attr=_CONTAINER_TYPES))
    | m.BinaryOperation(left=m.List(), operator=m.Multiply())
)

# Methods that run before the object (or class) can have been handed to another thread.
_CLASS_CREATION = frozenset({"__init_subclass__", "__set_name__"})
_CONSTRUCTORS = frozenset({"__init__", "__post_init__", "__new__"}) | _CLASS_CREATION


def rmw_target(node: cst.CSTNode) -> cst.BaseExpression | None:
    """The item or attribute ``node`` reads, modifies and writes back: ``d[k] += 1``,
    ``o.a = o.a + 1`` or ``d[k] = d.get(k, 0) + 1``."""
    if isinstance(node, cst.AugAssign) and m.matches(node.target, _ITEM_OR_ATTRIBUTE):
        return node.target
    if m.matches(node, _ASSIGN_BINOP):
        target = node.targets[0].target
        if any(op.deep_equals(target) or _is_get_of(op, target) for op in binop_operands(node.value)):
            return target
    return None


def _is_get_of(expr: cst.BaseExpression, target: cst.BaseExpression) -> bool:
    """``d.get(k, ...)`` for the target ``d[k]``."""
    if not (isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index)):
        return False
    key = target.slice[0].slice.value
    return (
        m.matches(expr, m.Call(func=m.Attribute(attr=m.Name("get"))))
        and expr.func.value.deep_equals(target.value)
        and bool(expr.args)
        and expr.args[0].keyword is None
        and expr.args[0].value.deep_equals(key)
    )


@dataclass(frozen=True)
class SharedState:
    """What a target belongs to, and so where its lock lives."""

    domain: Domain
    state: str  # key of the state within the domain (and the stem of a new lock's name)
    where: str  # for the message
    receiver: str | None = None  # how the code names the object holding a class/instance lock
    anchor: str | None = None  # module-level name after which a new module lock goes


def _module_binding(ctx: FileContext, name: cst.Name) -> cst.CSTNode | None:
    """The one kind of module-level statement ``name`` refers to where it is used (an
    ``Import``/``ImportFrom``, ``ClassDef``, or ``Name`` for an assignment), else None."""
    scope = ctx.scopes.get(name)
    if scope is None:
        return None
    assignments = list(scope[name.value])
    if not assignments or any(not isinstance(a.scope, GlobalScope) for a in assignments):
        return None
    kinds = {type(a.node) for a in assignments}
    if kinds <= {cst.Import, cst.ImportFrom}:
        return assignments[0].node
    if len(assignments) == 1 and kinds == {cst.ClassDef}:
        return assignments[0].node
    return assignments[0].node if kinds == {cst.Name} else None


def _rebound(ctx: FileContext, func: cst.FunctionDef) -> set[str]:
    """Names assigned in ``func``'s body: a re-assigned ``self`` no longer names the receiver."""
    scope = ctx.scopes.get(func.body)
    if scope is None:
        return set()
    return {a.name for a in scope.assignments if a.scope is scope and not isinstance(a.node, cst.Param)}


def _receiver(ctx: FileContext, func: cst.FunctionDef, kind: str) -> str | None:
    """``self`` (kind "instance") or ``cls`` (kind "class") of a method, if not re-assigned."""
    if ctx.method_kind(func) != kind:
        return None
    receiver = ctx.first_param(func)
    return receiver if receiver is not None and receiver not in _rebound(ctx, func) else None


def _module_item(ctx: FileContext, base: cst.Name, module_names: set[str]) -> SharedState | None:
    if base.value in module_names and isinstance(_module_binding(ctx, base), (cst.Name, cst.Import, cst.ImportFrom)):
        return SharedState(MODULE, base.value, f"item of module-level `{base.value}`", anchor=base.value)
    return None


def _class_attribute(ctx: FileContext, func: cst.FunctionDef, owner: cst.BaseExpression, attr: str) -> SharedState | None:
    """``cls.total`` in a classmethod, ``type(self).total``, ``self.__class__.total``."""
    cls = ctx.method_class(func)
    if func.name.value in _CLASS_CREATION:
        return None
    if m.matches(owner, m.Name()):
        if cls is None or owner.value != _receiver(ctx, func, "class"):
            return None
    else:
        self_ = _receiver(ctx, func, "instance") if cls is not None else None
        if self_ is None or not m.matches(
            owner, m.Call(func=m.Name("type"), args=[m.Arg(value=m.Name(self_), keyword=None)]) | m.Attribute(value=m.Name(self_), attr=m.Name("__class__"))
        ):
            return None
    return SharedState(Domain("class", cls), attr, f"class attribute of `{cls.name.value}`", receiver=ctx.code(owner), anchor=attr)


def _module_owned(ctx: FileContext, owner: cst.BaseExpression, attr: str, module_names: set[str]) -> SharedState | None:
    """``Counter.total`` for a top-level class, ``config.retries`` for an imported module."""
    root = owner
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name) or root.value not in module_names:
        return None
    binding = _module_binding(ctx, root)
    if isinstance(binding, cst.ClassDef) and root is owner and binding in ctx.module.body:
        return SharedState(Domain("class", binding), attr, f"class attribute of `{root.value}`", receiver=root.value, anchor=attr)
    if isinstance(binding, (cst.Import, cst.ImportFrom)):
        path = f"{ctx.code(owner)}.{attr}"
        return SharedState(MODULE, path, f"attribute of imported `{ctx.code(owner)}`", anchor=root.value)
    return None


def _instance_attribute(ctx: FileContext, func: cst.FunctionDef, owner: cst.BaseExpression, attr: str) -> SharedState | None:
    """``self.hits`` in a class whose instances are shared between threads."""
    if func.name.value in _CONSTRUCTORS or not m.matches(owner, m.Name()):
        return None
    cls = ctx.method_class(func)
    if cls is None or ctx.method_kind(func) != "instance" or owner.value != ctx.first_param(func):
        return None
    reason = shared_class_reason(ctx, cls)
    if reason is None or _receiver(ctx, func, "instance") is None:
        return None
    if cls.name.value not in ctx.shared_classes and not _written_by_threads_at_once(ctx, cls, attr):
        return None
    where = f"attribute of `{cls.name.value}` instances, which are shared between threads: {reason}"
    return SharedState(Domain("instance", cls), attr, where, receiver=owner.value)


def _written_by_threads_at_once(ctx: FileContext, cls: cst.ClassDef, attr: str) -> bool:
    """Can two threads write ``self.attr`` at once? For a class that runs methods in
    threads: yes if a method that writes it is run by several threads (a pool, threads
    started in a loop), or if both a thread's entry method (``run``, a ``Thread`` target)
    and another method write it; a counter only its own thread's ``run()`` updates is not
    shared (even once the class has a lock, which keeps ``apply`` idempotent). For a class
    that only has a lock attribute: yes, its methods may be called from any thread."""
    entries = thread_entry_methods(ctx, cls)
    if is_thread_subclass(ctx, cls):
        entries.setdefault("run", False)
    if not entries:
        return any(ctx.class_lock_attrs(cls))
    writers = _attribute_writers(ctx, cls).get(attr, set())
    return any(entries.get(w) for w in writers) or (len(writers) >= 2 and any(w in entries for w in writers))


def _attribute_writers(ctx: FileContext, cls: cst.ClassDef) -> dict[str, set[str]]:
    """Attribute name -> the methods (not constructors) that assign ``self.<attr>`` or an item of it."""
    cache = ctx.rule_cache.setdefault("FT004.writers", {})
    if cls in cache:
        return cache[cls]
    writers: dict[str, set[str]] = {}
    for method in (s for s in cls.body.body if isinstance(s, cst.FunctionDef)) if isinstance(cls.body, cst.IndentedBlock) else ():
        receiver = ctx.first_param(method)
        if method.name.value in _CONSTRUCTORS or ctx.method_kind(method) != "instance" or receiver is None:
            continue
        for node in iter_function_nodes(method):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target] if isinstance(node, (cst.AugAssign, cst.AnnAssign)) else []
            for target in targets:
                while isinstance(target, cst.Subscript):
                    target = target.value
                if m.matches(target, m.Attribute(value=m.Name(receiver))):
                    writers.setdefault(target.attr.value, set()).add(method.name.value)
    cache[cls] = writers
    return writers


def shared_state(ctx: FileContext, func: cst.FunctionDef, target: cst.BaseExpression, module_names: set[str]) -> SharedState | None:
    """The shared state ``target`` (an item or attribute written in ``func``) belongs to, or
    None when nothing says it is shared between threads. ``module_names``: names bound at
    module level (checked first: resolving scopes is costly)."""
    base = target
    while isinstance(base, cst.Subscript):
        base = base.value
    if isinstance(base, cst.Name):
        # A bare name is FT001's; a local container is not shared.
        return _module_item(ctx, base, module_names) if base is not target else None
    if not isinstance(base, cst.Attribute):
        return None
    owner, attr = base.value, base.attr.value
    return (
        _class_attribute(ctx, func, owner, attr)
        or _instance_attribute(ctx, func, owner, attr)
        or _module_owned(ctx, owner, attr, module_names)
    )


class SharedItemAttributeReadModifyWrite(Rule):
    """
    ## What it does
    Finds read-modify-writes of shared items and attributes inside functions: an augmented
    assignment (`stats[key] += 1`, `self.hits += 1`), `x.a = x.a + 1`, or
    `d[k] = d.get(k, 0) + 1`, whose target is
    - an item of a module-level container: `stats[key] += 1`, `shared_data["count"] += 1`;
    - a class attribute: `cls.total += 1`, `Counter.total += 1`, `type(self).total += 1`;
    - an attribute of an imported module: `config.retries -= 1`;
    - an attribute of `self` in a class whose instances are shared between threads: the
      class is listed in the configuration, or has a lock attribute
      (`self._lock = threading.Lock()`); or it subclasses `threading.Thread`, or one of its
      methods is handed to threads in the same module (`Thread(target=obj.run)`,
      `executor.submit(obj.step)`, `executor.map(obj.f, ...)`), and two threads can write
      the attribute at once: a method that writes it is run by several threads (an
      executor, threads started in a loop), or both the thread's entry method (`run`, the
      `target`) and another method write it. A counter that only a thread's own `run()`
      updates is not shared, with or without a lock attribute.

    Instance attributes of other classes are not reported: most objects belong to one
    thread. To opt a class in, list it in the configuration:
    ```toml
    [tool.ftmigrate]
    shared-classes = ["Cache", "Metrics"]
    ```
    Instance attributes in constructors (`__init__`, `__new__`, `__post_init__`) and class
    attributes in `__init_subclass__`/`__set_name__` are not reported: the object or class
    is not shared yet. Code already under a lock is not reported; see the
    `ftmigrate.analysis` module documentation for what counts as a lock (`with`,
    `acquire()`/`release()`, `Condition`, `Semaphore`, imported locks, `@synchronized`-style
    decorators, a private helper whose every caller holds the lock).

    ## Why is this bad under free-threading?
    `stats[key] += 1` is a load of the item, an add and a store. Without the GIL two
    threads run these at the same time, both read 50 and both store 51: an update is lost.
    On free-threaded CPython 3.13t, four threads incrementing one dict item 100,000 times
    each end far below 400,000. The same holds for attributes of shared objects, classes
    and modules.

    ## Example
    ```python
    stats = {"requests": 0}

    def handle():
        stats["requests"] += 1
    ```

    ## Use instead
    ```python
    import threading

    stats = {"requests": 0}
    _stats_lock = threading.Lock()

    def handle():
        with _stats_lock:
            stats["requests"] += 1
    ```

    ## Fix safety
    Only the statement is wrapped (consecutive statements under the same lock share one
    `with`), never the loop around it. Module containers and module attributes get a
    module-level lock, placed after the container's assignment (after the imports for
    imported modules). Class and instance state use the class's own lock attribute
    (`with self._lock:`) when it has one, else a new class-level lock attribute
    (`with self._hits_lock:`): one lock for all instances, which is correct but coarser
    than a lock per instance. A lock that already guards the same state elsewhere, or one
    the function already takes, is reused, and state updated in the same function shares
    one lock (also across rules), so no function takes two inserted locks.
    If the statement calls a function, a new lock is an `RLock`, so a call that re-enters
    the same code on the same thread still works; an existing non-reentrant lock is not
    held across such a call, and the finding is then left to you. A statement that
    `await`s or `yield`s is not fixed. When several modules update the same imported
    module attribute, each gets its own lock; move the update behind one lock in the
    module that owns the state.
    """

    code = "FT004"
    name = "shared-item-attribute-read-modify-write"
    summary = "read-modify-write of a shared item or attribute without a lock"
    # Every augmented assignment and binary operation contains one of these.
    tokens = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "@")

    VALID = [
        "def f(k):\n    stats = {}\n    stats[k] += 1\n",
        "class Point:\n    def move(self, dx):\n        self.x += dx\n",
        "import threading\nlocal = threading.local()\n\ndef f():\n    local.counter += 1\n",
        "import threading\n\nclass Cache:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
        "        self.hits = 0\n        self.hits += 1\n",
        "stats = {}\nstats['x'] += 1\n",
        "import threading\nstats = {}\nlock = threading.Lock()\n\ndef f(k):\n    with lock:\n        stats[k] += 1\n",
        "stats = {}\n\ndef f(k):\n    stats[k] += 1  # ftmigrate: ignore[FT004]\n",
        "import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        self.done += 1\n",
        "import threading\nstats = {}\nlock = threading.Lock()\n\ndef _bump(k):\n    stats[k] += 1\n\n"
        "def hit(k):\n    with lock:\n        _bump(k)\n",
    ]
    INVALID = [
        Example(
            "stats = {}\n\ndef f(k):\n    stats[k] += 1\n",
            "import threading\n\nstats = {}\n_stats_lock = threading.Lock()\n\ndef f(k):\n    with _stats_lock:\n        stats[k] += 1\n",
        ),
        Example(
            "class Counter:\n    total = 0\n\n    @classmethod\n    def add(cls):\n        cls.total = cls.total + 1\n",
            "import threading\n\nclass Counter:\n    total = 0\n    _total_lock = threading.Lock()\n\n"
            "    @classmethod\n    def add(cls):\n        with cls._total_lock:\n            cls.total = cls.total + 1\n",
        ),
        Example(
            "import threading\n\nclass Cache:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
            "        self.hits = 0\n\n    def get(self, k):\n        self.hits += 1\n",
            "import threading\n\nclass Cache:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
            "        self.hits = 0\n\n    def get(self, k):\n        with self._lock:\n            self.hits += 1\n",
        ),
        Example("stats = {}\n\nasync def f(k, src):\n    stats[k] += await src.count()\n", None),
    ]

    @staticmethod
    def _builtin_containers(ctx: FileContext) -> set[str]:
        """Names only ever bound to a dict/list/set (so ``counts.get(k, 0)`` runs no user code)."""
        kinds: dict[str, bool] = {}
        for target, value in ctx.assignments:
            if isinstance(target, cst.Name):
                kinds[target.value] = kinds.get(target.value, True) and m.matches(value, _BUILTIN_CONTAINER)
        return {name for name, builtin in kinds.items() if builtin}

    def check(self, ctx: FileContext) -> Iterator[Site]:
        module_names = ctx.module_bindings()
        containers = self._builtin_containers(ctx)
        for func in m.findall(ctx.module, m.FunctionDef()):
            for node in iter_function_nodes(func):
                target = rmw_target(node)
                if target is None:
                    continue
                shared = shared_state(ctx, func, target, module_names)
                if shared is None:
                    continue
                safe = frozenset({shared.state} & containers if shared.domain == MODULE else ())
                yield self.read_modify_write_site(
                    ctx,
                    node,
                    f"`{ctx.code(target)}` ({shared.where})",
                    m.MatchIfTrue(target.deep_equals),
                    safe,
                    state=shared.state,
                    domain=shared.domain,
                    function=func,
                    receiver=shared.receiver,
                    anchor=shared.anchor,
                )
