"""FT004: unsynchronised read-modify-write of a shared item or attribute (detected on the
standard ``ast``; the shapes are ``ft004_shapes``'s, the shared state
``ft004_state``'s, the necessary condition ``ft004_candidate``'s)."""

from __future__ import annotations

import ast
from typing import Iterator

from codemods.ft004_candidate import is_candidate
from codemods.ft004_shapes import ITEM_OR_ATTRIBUTE, rmw_target
from codemods.ft004_state import SharedState, shared_state
from ftmigrate.analysis import FUNCTIONS, FileContext, Function, call_arguments, dotted, iter_function_nodes
from ftmigrate.fixes import MODULE
from ftmigrate.rules import Example, Rule, Site
from ftmigrate.spans import equal_to, written_back

_CONTAINER_TYPES = frozenset({"dict", "list", "set", "defaultdict", "Counter", "OrderedDict"})
_CONTAINER_DISPLAYS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


def _is_builtin_container(value: ast.expr) -> bool:
    """``{}``, ``[...]``, a comprehension, ``dict()``, ``collections.Counter()``, ``[0] * n``."""
    if isinstance(value, _CONTAINER_DISPLAYS):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "collections":
            return func.attr in _CONTAINER_TYPES
        return isinstance(func, ast.Name) and func.id in _CONTAINER_TYPES
    return isinstance(value, ast.BinOp) and isinstance(value.left, ast.List) and isinstance(value.op, ast.Mult)


class SharedItemAttributeReadModifyWrite(Rule):
    """
    ## What it does
    Finds read-modify-writes of shared items and attributes inside functions: an augmented
    assignment (`stats[key] += 1`, `self.hits += 1`), `x.a = x.a + 1`, or
    `d[k] = d.get(k, 0) + 1`, whose target is
    - an item of a module-level container: `stats[key] += 1`, `shared_data["count"] += 1`;
    - a class attribute: `cls.total += 1`, `Counter.total += 1`, `type(self).total += 1`,
      `cls.total += 1` after `cls = type(self)`, in a `@classproperty` too;
    - an attribute of the function object itself (`_M.misses += 1` inside `def _M`: one
      object for every caller), reported without a fix;
    - an attribute of an imported module: `config.retries -= 1`;
    - an attribute of `self` in a class whose instances are shared between threads: the
      class is listed in the configuration, or its instances have a thread lock attribute
      (`self._lock = threading.Lock()` in a method; a class-level lock does not count); or it subclasses `threading.Thread`, or one of its
      methods is handed to threads in the same module (`Thread(target=obj.run)`,
      `executor.submit(obj.step)`, `executor.map(obj.f, ...)`), and two threads can write
      the attribute at once: a method that writes it is run by several threads (an
      executor, threads started in a loop), or both the thread's entry method (`run`, the
      `target`) and another method write it. A counter that only a thread's own `run()`
      updates is not shared, with or without a lock attribute. The other evidence of
      `ftmigrate.sharing.shared_by_design` counts as a lock attribute does: a lock made by
      the project's own wrapper, a `queue.Queue`-family queue, documentation that says the
      class is thread-safe, a shared base class.

    An update held by another lock than the one most updates of the same state hold
    (`with self._read_lock: self.n -= 1` where the others hold `self._state_lock`) is
    reported too, without a fix: the two locks do not exclude each other. A `Condition`
    built on a lock holds that lock.

    Instance attributes of other classes are not reported: most objects belong to one
    thread. To opt a class in, list it in the configuration:
    ```toml
    [tool.ftmigrate]
    shared-classes = ["Cache", "Metrics"]
    ```
    Instance attributes in constructors (`__init__`, `__new__`, `__post_init__`) and class
    attributes in `__init_subclass__`/`__set_name__` are not reported: the object or class
    is not shared yet. Code already under a lock is not reported; see the
    `ftmigrate.heldlocks` module documentation for what counts as a lock (`with`,
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
    Safe (`ftmigrate apply`): a dedicated new lock, or a proven `threading` lock that
    already guards the state elsewhere (`ftmigrate.threadlocks`), around an
    update that calls nothing but builtins and the container's own methods
    (`stats[key] += 1`, `d[k] = d.get(k, 0) + 1`, `cls.total += 1`).

    Unsafe (only with `--unsafe-fixes`): the update calls other code
    (`self.total += item.price()`): it runs with the lock held, serialised, and an override
    or callback that blocks, takes another lock or comes back from another thread can
    deadlock (a new lock is then an `RLock`). Also unsafe: per-instance state (`self.hits`)
    guarded by one lock for the whole class (a new class-level lock attribute, or the
    class's class-level lock): every instance now waits for every other.

    The whole update is locked: the adjacent statements that read the state for it
    (`n = self.count; n += 1; self.count = n`, `before = self.count` right before
    `self.count += 1`) join the critical section; never the loop around it. Module
    containers and module attributes get a module-level lock after the container's
    assignment (after the imports for imported modules); class and instance state get a new
    class-level lock attribute named for the class or the state (`_hits_lock`): one lock for
    all instances, correct but coarser than a lock per instance. When something other than
    a proven `threading` lock already guards the state elsewhere, the finding is not fixed.
    State updated in the same function
    shares one lock (also across rules), so no function takes two inserted locks. An
    existing non-reentrant lock is not held across a call to a method that takes it. A
    statement that `await`s or `yield`s is not fixed. When several modules update the same
    imported module attribute, each gets its own lock; move the update behind one lock in
    the module that owns the state.
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
            "        self.hits = 0\n\n    def get(self, k):\n        self.hits += 1\n\n"
            "    def reset(self):\n        with self._lock:\n            self.hits = 0\n",
            "import threading\n\nclass Cache:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
            "        self.hits = 0\n\n    def get(self, k):\n        with self._lock:\n            self.hits += 1\n\n"
            "    def reset(self):\n        with self._lock:\n            self.hits = 0\n",
        ),
        Example("stats = {}\n\nasync def f(k, src):\n    stats[k] += await src.count()\n", None),
    ]

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """Some function read-modify-writes (``rmw_target``'s shapes) an item of a name bound
        at module level by an assignment or import; an attribute of ``cls`` in a classmethod,
        of ``type(self)``/``self.__class__``; an attribute of an imported module or of a
        top-level class; or ``self.<attr>`` in an instance method (not a constructor) of a
        class that is in ``shared_classes``, may have a lock attribute, or whose methods
        handed to threads (or ``run`` of a ``Thread`` subclass plus another method) write
        ``<attr>``."""
        return is_candidate(tree, shared_classes)

    @staticmethod
    def _builtin_containers(ctx: FileContext) -> set[str]:
        """Names only ever bound to a dict/list/set (so ``counts.get(k, 0)`` runs no user code)."""
        kinds: dict[str, bool] = {}
        for target, value in ctx.assignments:
            if isinstance(target, ast.Name):
                kinds[target.id] = kinds.get(target.id, True) and _is_builtin_container(value)
        return {name for name, builtin in kinds.items() if builtin}

    def check(self, ctx: FileContext) -> Iterator[Site]:
        module_names = ctx.module_bindings()
        containers = self._builtin_containers(ctx)
        updates: list[tuple[Function, ast.stmt, ast.expr, SharedState]] = []
        for func in ctx.find(FUNCTIONS):
            for node in iter_function_nodes(func):
                target = rmw_target(node, ctx.same_code) or written_back(ctx, node, ITEM_OR_ATTRIBUTE)  # self.n = n after n = self.n
                if target is None:
                    continue
                shared = shared_state(ctx, func, target, module_names)
                if shared is not None:
                    updates.append((func, node, target, shared))
        held = _locks_by_state(ctx, [(node, shared) for _, node, _, shared in updates])
        underlying = _underlying_locks(ctx) if held else {}
        for func, node, target, shared in updates:
            subject = f"`{ctx.code(target)}` ({shared.where})"
            other = _other_lock(held, node, shared, underlying)
            if other is not None:
                mine = " and ".join(f"`{code}`" for code in held[_state_key(shared)][node])
                message = (
                    f"{subject} is read, modified and written under {mine}, but other updates of it hold `{other}`: "
                    "the locks do not exclude each other, and concurrent threads lose updates"
                )
                reason = f"hold the lock the other updates hold (`{other}`) here; ftmigrate does not change which lock guards code"
                yield self.site(node, message, domain=shared.domain, unfixable_reason=reason)
                continue
            if shared.unfixable is not None:
                message = f"{subject} is read, modified and written without a lock; concurrent threads lose updates"
                yield self.site(node, message, domain=shared.domain, guarded_by=ctx.guard_of(node), unfixable_reason=shared.unfixable)
                continue
            safe = frozenset({shared.state} & containers if shared.domain == MODULE else ())
            yield self.read_modify_write_site(
                ctx,
                node,
                subject,
                equal_to(ctx, target),
                safe,
                state=shared.state,
                domain=shared.domain,
                function=func,
                receiver=shared.receiver,
                anchor=shared.anchor,
            )


def _state_key(shared: SharedState) -> tuple:
    return (shared.domain.kind, id(shared.domain.owner), shared.state)


def _locks_by_state(ctx: FileContext, updates: list[tuple[ast.stmt, SharedState]]) -> dict[tuple, dict[ast.stmt, list[str]]]:
    """State -> {update: the codes of the locks held there}, for updates held only by locks
    the code names (``with self._lock:``, ``L.acquire()``); an update under a lock that
    cannot be named (a decorator, a release helper) is left out."""
    found: dict[tuple, dict[ast.stmt, list[str]]] = {}
    for node, shared in updates:
        refs = list(ctx.locks_held_at(node))
        if refs and all(ref.code for ref in refs):
            found.setdefault(_state_key(shared), {})[node] = [ref.code for ref in refs]
    return found


def _underlying_locks(ctx: FileContext) -> dict[str, str]:
    """Last name of a ``Condition`` -> last name of the lock it was built on
    (``self.size_cond = threading.Condition(self.lock)``): holding one holds the other."""
    found: dict[str, str] = {}
    for target, value in ctx.assignments:
        if isinstance(value, ast.Call) and ctx.lock_kind(value) == "Condition" and isinstance(target, (ast.Name, ast.Attribute)):
            arg = next((expr for keyword, expr in call_arguments(value) if keyword in (None, "lock")), None)
            lock = dotted(arg) if arg is not None else None
            if lock is not None:
                found[ctx.code(target).rsplit(".", 1)[-1]] = lock.rsplit(".", 1)[-1]
    return found


def _lock_name(code: str, underlying: dict[str, str]) -> str:
    """The last name of the lock ``code`` holds: ``self._lock`` -> ``_lock``, a Condition's own lock."""
    name = code.rsplit(".", 1)[-1]
    for _ in range(len(underlying)):
        if name not in underlying:
            break
        name = underlying[name]
    return name


def _other_lock(
    held: dict[tuple, dict[ast.stmt, list[str]]], node: ast.stmt, shared: SharedState, underlying: dict[str, str]
) -> str | None:
    """The lock that guards the other updates of the same state when ``node`` holds
    another one, else None. Locks compare by last name (``cls._lock`` is ``Owner._lock``),
    a ``Condition`` as the lock it was built on (``_underlying_locks``);
    the state's lock is the one most of its updates hold (on a tie, the first update's):
    the updates that hold it are consistent, the others are reported."""
    updates = held.get(_state_key(shared), {})
    if node not in updates or len(updates) < 2:
        return None
    names = {other: [_lock_name(code, underlying) for code in codes] for other, codes in updates.items()}
    counts: dict[str, int] = {}
    for codes in names.values():
        for name in dict.fromkeys(codes):
            counts[name] = counts.get(name, 0) + 1
    usual = max(counts, key=counts.get)  # dicts keep the first update's locks first: a tie goes to them
    if usual in names[node]:
        return None
    return next(code for codes in updates.values() for code in codes if _lock_name(code, underlying) == usual)
