"""FT003: lazy singletons and lazy globals created without a lock."""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

import libcst as cst
import libcst.matchers as m

from codemods import ft003_singleton_init as singleton_init
from codemods.ft003_publication import NAME_OR_ATTR, Key, assignments_in, key_of, publication, spelled
from ftmigrate.analysis import (
    CLASS_DECORATORS, LOCK_FACTORIES, FileContext, calls_unknown_code, instance_lock_attributes, iter_function_nodes, looks_like_lock_name,
    shared_class_reason,
    top_level_bindings,
)
from ftmigrate.locking import MODULE, Domain, Guard
from ftmigrate.prefilter import ast_class_aliases, ast_dotted, ast_may_say_shared, statements
from ftmigrate.rules import Example, Rule, Site

# How lazy-initialisation code spells "not created yet".
_IS_NONE = m.Comparison(comparisons=[m.ComparisonTarget(operator=m.Is(), comparator=m.Name("None"))])
_NOT_HASATTR = m.UnaryOperation(
    operator=m.Not(),
    expression=m.Call(func=m.Name("hasattr"), args=[m.Arg(value=m.Name(), keyword=None), m.Arg(value=m.SimpleString(), keyword=None)]),
)
_NOT_IN_DICT = m.Comparison(
    left=m.SimpleString(),
    comparisons=[m.ComparisonTarget(operator=m.NotIn(), comparator=m.Attribute(value=m.Name(), attr=m.Name("__dict__")))],
)
_CLASS_CREATION_HOOKS = frozenset({"__init_subclass__", "__set_name__"})
_OR_ASSIGN = m.Assign(targets=[m.AssignTarget(target=NAME_OR_ATTR)], value=m.BooleanOperation(operator=m.Or()))


def checked_target(test: cst.BaseExpression) -> cst.BaseExpression | None:
    """``X`` in a test meaning "X does not exist yet": ``X is None``, ``not X``,
    ``not hasattr(R, "x")`` and ``"x" not in R.__dict__`` (the last two give ``R.x``)."""
    if m.matches(test, _IS_NONE) and m.matches(test.left, NAME_OR_ATTR):
        return test.left
    if m.matches(test, _NOT_HASATTR):
        receiver, attr = test.expression.args[0].value, test.expression.args[1].value.evaluated_value
        return cst.Attribute(value=receiver, attr=cst.Name(attr)) if attr.isidentifier() else None
    if m.matches(test, _NOT_IN_DICT):
        attr = test.left.evaluated_value
        return cst.Attribute(value=test.comparisons[0].comparator.value, attr=cst.Name(attr)) if attr.isidentifier() else None
    if m.matches(test, m.UnaryOperation(operator=m.Not(), expression=NAME_OR_ATTR)):
        return test.expression
    return None


@dataclass(frozen=True)
class _State:
    """What a lazily created ``X`` is, and where a lock for it lives."""

    key: Key
    domain: Domain
    receiver: str | None
    cls: cst.ClassDef | None = None
    shared_reason: str | None = None  # instance state: why the instances are shared

    @property
    def name(self) -> str:
        return self.key[1]

    @property
    def spelled(self) -> str:
        return spelled(self.key)


class _Facts:
    """Per-file facts the rule asks for at every candidate, computed once each."""

    def __init__(self, ctx: FileContext, functions: list[cst.FunctionDef]) -> None:
        self.ctx = ctx
        self.functions: dict[str, list[cst.FunctionDef]] = {}
        for func in functions:
            self.functions.setdefault(func.name.value, []).append(func)
        self._globals: dict[int, set[str]] = {}
        self._shared: dict[int, str | None] = {}

    def globals_of(self, func: cst.FunctionDef) -> set[str]:
        if id(func) not in self._globals:
            self._globals[id(func)] = self.ctx.declared(func, cst.Global)
        return self._globals[id(func)]

    def shared_reason(self, cls: cst.ClassDef) -> str | None:
        if id(cls) not in self._shared:
            self._shared[id(cls)] = shared_class_reason(self.ctx, cls)
        return self._shared[id(cls)]


@dataclass
class _Fix:
    """A rule's verdict on one finding: a guard, or why there is none."""

    guard: Guard | None = None
    reason: str | None = None


class LazyInitialisation(Rule):
    """
    ## What it does
    Finds shared objects created on first use without a lock: `__new__` singletons
    (`if cls._instance is None: cls._instance = super().__new__(cls)`), the same in a
    `@classmethod` getter or spelled `ClassName._instance`; module-level lazy globals
    (`global _client` + `if _client is None: _client = make_client()`); the variants
    `if not X:`, `if not hasattr(cls, "_instance"):`, `if "_instance" not in cls.__dict__:`
    and `X = X or make()`; class attributes created through `cls = self.__class__` (or
    `type(self)`) or in a `@classproperty`; and lazily created attributes (`if self._conn is None:
    self._conn = connect()`) of a class whose instances are shared between threads (they have
    a thread lock attribute, also one made by the project's own lock wrapper or factory; it
    subclasses `threading.Thread`, its methods are handed to threads in the module, it keeps a
    `queue.Queue`-family queue, its documentation says in a plain sentence that it is
    thread-safe or shared between threads, a class of the module it derives from and whose
    `__init__` it runs is shared so, or it is listed in `shared-classes`). It also reports zero-argument
    factories decorated with `functools.lru_cache`/`functools.cache` that serve as
    singletons. Not reported: `self.x` set up in `__init__` or `__setstate__`, class attributes set in
    `__init_subclass__`/`__set_name__` (they run while the class statement executes),
    module-level code (imports run once, under the import lock), and `if not X: X += ...`
    (an update, not a creation).

    ## Why is this bad under free-threading?
    Checking that the object does not exist and creating it are two steps. Threads that
    make their first call together all see "not created yet" and each create an object:
    a singleton's callers end up with different instances, a client is connected twice,
    and the objects that lose the race are silently dropped along with whatever state was
    put in them. On free-threaded CPython 3.13t, 8 threads released together on a
    singleton whose construction takes 1 ms create 8 objects in almost every trial; one
    published before it is set up is handed out half-built to most of the threads that
    arrive meanwhile. `lru_cache` does not help:
    it calls the function without a lock and only stores the result afterwards, so two
    threads that miss the cache together both call the factory.

    ## Example
    ```python
    class Registry:
        _instance = None

        def __new__(cls):
            if cls._instance is None:
                cls._instance = super().__new__(cls)
            return cls._instance
    ```

    ## Use instead
    ```python
    import threading

    class Registry:
        _instance = None
        _instance_lock = threading.RLock()

        def __new__(cls):
            if cls._instance is None:
                with cls._instance_lock:
                    if cls._instance is None:
                        cls._instance = super().__new__(cls)
            return cls._instance
    ```

    ## Fix safety
    Safe (`ftmigrate apply`): the creation calls nothing but builtins or `object`'s own
    allocation (`cls._instance = super().__new__(cls)` in a class without other bases,
    `_registry = {}`), with a dedicated new lock or the class's existing one.

    Unsafe (only with `--unsafe-fixes`): the creation calls a factory or a constructor
    (`cls()`, `make_client()`, `requests.Session()`): it now runs with the lock held, so
    threads that ask for the object while it is being built wait for it (which is the
    point), and a factory that blocks for long, takes other locks, or asks for another
    singleton built the same way from another thread can stall or deadlock. Also unsafe:
    a lock shared by all instances guarding per-instance state.

    The fix is double-checked locking: the existing check stays as the lock-free fast
    path, the lock is taken only while the object does not exist yet, and the check is
    repeated under it, so exactly one thread creates the object and every caller gets it.
    The lock-free read is safe in CPython: storing a reference is atomic and happens only
    after the object was built, so the fast path sees either nothing or the whole object.
    The lock is a new class attribute `_instance_lock` next to `_instance` (so `cls.` and
    `ClassName.` reach it; per-subclass singletons share it, which is coarser but correct),
    a module-level `_client_lock` after `_client` for globals, and a class-level lock for
    instance attributes; an existing lock only when it already guards the same state
    elsewhere and is a proven `threading` lock (`ftmigrate.threadlocks`). When the instances
    carry no thread lock of their own, the lazy attribute is reported but not fixed: one
    lock per instance belongs in `__init__`, and nothing says the instances are shared. An existing
    non-reentrant lock is not reused when a caller in this module already holds it while
    calling the getter (that would deadlock): the finding stays, with that reason. Callers
    in other modules, or further up the call chain, are not seen.
    A new lock is an `RLock` when the guarded code calls anything but safe builtins, so an
    `__init__` that asks for the singleton on the same thread still gets through.

    A `__new__` singleton's `__init__` runs on every `S()` call; a one-time guard in it
    (`if not hasattr(self, "conn"):`, `if self._initialized: return`) is reported too and
    locked with the same lock as `__new__` (the `if`, or for an early `return` the rest of
    `__init__` with it). The two fixes are applied, or held back as unsafe, together.

    The object is never published half-built: when the guarded code assigns the shared
    name and then keeps setting it up (`cls._instance = cls(); cls._instance.load()`),
    the fix builds it in a local and assigns the shared name last. One behaviour changes
    on purpose: if the setup raises, the half-built object is no longer kept. When that
    move is not safe (a function called during the setup reads the shared name, the name
    is assigned more than once, a `return` or `break` could skip the final assignment),
    the finding is reported as not auto-fixable with the reason.

    `X = X or make()` is rewritten to the equivalent `if not X: X = make()` when `X` is a
    global or a class attribute spelled with the class's own name and defined in its body;
    for `cls.X` and `self.X` it is reported only (the store can copy an inherited class
    attribute or run a property setter). The check runs twice on the slow path. Checks
    with an `else`/`elif` branch are reported but not fixed. A zero-argument
    `lru_cache`/`cache` factory is reported only.
    """

    code = "FT003"
    name = "lazy-initialisation-without-lock"
    summary = "lazy singleton or lazily created global/attribute without a lock"
    # The keywords of the checks (`is None`, `not`, `or`) or the `cache` of functools'
    # decorators; as whole words, since `not(x)` and `(x)or y` have no blank around them.
    tokens = ("None", "not", "or", "cache")
    pattern = re.compile(r"\b(?:None|not|or)\b|cache")

    VALID = [
        # already double-checked
        "import threading\n\nclass S:\n    _instance = None\n    _lock = threading.Lock()\n\n    def __new__(cls):\n"
        "        if cls._instance is None:\n            with cls._lock:\n                if cls._instance is None:\n"
        "                    cls._instance = super().__new__(cls)\n        return cls._instance\n",
        # eager module-level instance
        "_client = make_client()\n\ndef get_client():\n    return _client\n",
        # a local variable
        "def f():\n    x = None\n    if x is None:\n        x = make()\n    return x\n",
        # import-time initialisation runs once, under the import lock
        "_client = None\nif _client is None:\n    _client = make_client()\n",
        # instance attribute of a class nothing shares between threads
        "class Conn:\n    def get(self):\n        if self._conn is None:\n            self._conn = connect()\n        return self._conn\n",
        # hooks that run while a class statement executes
        "class Base:\n    def __init_subclass__(cls):\n    "
        "    if '__hook__' not in cls.__dict__:\n            cls.__hook__ = default_hook\n",
        # an update, not a creation
        "import threading\n\nclass Reader(threading.Thread):\n    def feed(self, c):\n"
        "        if not self.buf:\n            self.buf += c\n",
        # an lru_cache factory with arguments is a cache, not a singleton
        "import functools\n\n@functools.lru_cache\ndef load(name):\n    return open(name).read()\n",
    ]
    INVALID = [
        Example(
            "class S:\n    _instance = None\n\n    def __new__(cls):\n        if cls._instance is None:\n"
            "            cls._instance = super().__new__(cls)\n        return cls._instance\n",
            "import threading\n\nclass S:\n    _instance = None\n    _instance_lock = threading.RLock()\n\n    def __new__(cls):\n"
            "        if cls._instance is None:\n            with cls._instance_lock:\n                if cls._instance is None:\n"
            "                    cls._instance = super().__new__(cls)\n        return cls._instance\n",
        ),
        Example(
            "_client = None\n\ndef get_client():\n    global _client\n    if not _client:\n        _client = make_client()\n"
            "        _client.connect()\n    return _client\n",
            "import threading\n\n_client = None\n_client_lock = threading.RLock()\n\ndef get_client():\n    global _client\n"
            "    if not _client:\n        with _client_lock:\n            if not _client:\n                client = make_client()\n"
            "                client.connect()\n                _client = client\n    return _client\n",
            unsafe=True,
        ),
        Example(
            "_registry = None\n\ndef registry():\n    global _registry\n    _registry = _registry or {}\n    return _registry\n",
            "import threading\n\n_registry = None\n_registry_lock = threading.Lock()\n\ndef registry():\n    global _registry\n"
            "    if not _registry:\n        with _registry_lock:\n            if not _registry:\n                _registry = {}\n"
            "    return _registry\n",
        ),
        Example("import functools\n\n@functools.cache\ndef get_settings():\n    return Settings()\n"),
        Example(
            "import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        if self._conn is None:\n"
            "            self._conn = connect()\n",
        ),
    ]

    def prefilter(self, text: str) -> bool:
        """A ``functools`` cache decorator needs ``functools`` imported; any other site
        needs a ``global`` declaration (module state) or a ``class`` (the receiver is a
        method's ``cls``/``self`` or a class's name), and a check's keyword."""
        if not super().prefilter(text):
            return False
        if "functools" in text and "cache" in text:
            return True
        return ("global" in text or "class" in text) and _KEYWORDS.search(text) is not None

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """``check()``'s shapes on the ``ast``: in a function, an ``if`` whose test means
        "X does not exist yet" and whose body assigns X, or ``X = X or ...``, where X is a
        name the function declares ``global``, an attribute of a class method's first
        parameter, of an instance method's first parameter when the class may be shared
        (``shared-classes``, a lock attribute, a ``Thread`` base, a method handed to a
        thread or pool), or of a top-level class's name; or a parameterless function
        decorated with ``functools.lru_cache``/``cache`` as the module imports them."""
        return _Candidates(tree, shared_classes).found()

    def check(self, ctx: FileContext) -> Iterator[Site]:
        cachers = _functools_cachers(ctx)
        functions = ctx.find(cst.FunctionDef)  # iterative: no RecursionError on deeply nested literals
        facts = _Facts(ctx, functions)
        for func in functions:
            yield from self._sites_in(facts, func)
            site = self._cached_singleton(ctx, func, cachers)
            if site is not None:
                yield site

    # --- finding ----------------------------------------------------------------------
    def _sites_in(self, facts: _Facts, func: cst.FunctionDef) -> Iterator[Site]:
        ctx = facts.ctx
        for node in iter_function_nodes(func):
            site = None
            if isinstance(node, cst.If):
                state = self._state(facts, func, key_of(checked_target(node.test)))
                # Created, not updated: `if not self.buf: self.buf += c` is no lazy creation.
                if state is not None and any(isinstance(a, (cst.Assign, cst.AnnAssign)) for a in assignments_in(node.body, state.key)):
                    site = self._if_site(facts, func, node, state)
            elif type(node) is cst.Assign and m.matches(node, _OR_ASSIGN):
                state = self._state(facts, func, key_of(node.targets[0].target))
                if state is not None and key_of(_leftmost(node.value)) == state.key:
                    site = self._or_site(ctx, func, node, state)
            if site is not None:
                yield site
            if site is not None and isinstance(node, cst.If) and func.name.value == "__new__" and state.domain.kind == "class":
                found = singleton_init.init_guard_fix(ctx, state.cls, state.name, state.domain)
                if found is not None:
                    stmt, guard = found
                    if site.fix is not None:  # one fix: the singleton and its initialisation
                        site.fix.together.append(guard)
                        guard.together.append(site.fix)
                    yield self.site(stmt, singleton_init.message(state.cls, ctx, stmt), fix=guard, guarded_by=ctx.guard_of(stmt))

    def _state(self, facts: _Facts, func: cst.FunctionDef, key: Key | None) -> _State | None:
        """Which shared state ``key`` names inside ``func``, or None if it is not shared."""
        if key is None:
            return None
        ctx = facts.ctx
        receiver, name = key
        if receiver is None:
            return _State(key, MODULE, None) if name in facts.globals_of(func) else None
        cls, kind = ctx.method_class(func), ctx.method_kind(func)
        if func.name.value in _CLASS_CREATION_HOOKS and cls is not None:
            return None  # they run once, while the class statement executes
        if receiver == ctx.first_param(func) and kind == "class":
            return _State(key, Domain("class", cls), receiver, cls)
        aliases = ctx.class_aliases(func)
        if receiver in aliases:  # `cls = self.__class__; cls.x`: the lock is `self.__class__._x_lock`
            return _State(key, Domain("class", cls), aliases[receiver], cls)
        if receiver == ctx.first_param(func) and kind == "instance":
            # __init__ and __setstate__ build an object no other thread can see yet.
            reason = facts.shared_reason(cls) if func.name.value not in ("__init__", "__setstate__") else None
            return _State(key, Domain("instance", cls), receiver, cls, reason) if reason else None
        named = next((s for s in ctx.module.body if isinstance(s, cst.ClassDef) and s.name.value == receiver), None)
        params = {p.name.value for p in (*func.params.posonly_params, *func.params.params, *func.params.kwonly_params)}
        if named is not None and receiver not in ctx.local_bindings(func) | params:
            return _State(key, Domain("class", named), receiver, named)
        return None

    def _message(self, state: _State, what: str, values: list[cst.BaseExpression]) -> str:
        """``values``: what the code assigns; an instance of the class makes it a singleton."""
        if state.domain.kind == "module":
            return (
                f"`{state.name}` is {what} without a lock: threads that race on the first call each "
                "create one, and callers end up with different objects"
            )
        if state.domain.kind == "class" and any(_constructs(state, v) for v in values):
            return (
                f"singleton `{state.spelled}` is {what} without a lock: threads that race on the "
                "first call each create an instance"
            )
        if state.domain.kind == "class":
            return (
                f"class attribute `{state.spelled}` is {what} without a lock: threads that race on the "
                "first call each create one"
            )
        return (
            f"`{state.spelled}` is {what} without a lock, and `{state.cls.name.value}` is shared "
            f"between threads ({state.shared_reason}): threads racing on first use each create one"
        )

    def _if_site(self, facts: _Facts, func: cst.FunctionDef, stmt: cst.If, state: _State) -> Site | None:
        """``if <X missing>: ... X = ...``: double-check the ``if`` itself."""
        ctx = facts.ctx
        guarded_by = ctx.guard_of(stmt)
        if guarded_by is None and any(ctx.guard_of(a) is not None for a in assignments_in(stmt.body, state.key)):
            return None  # the outer check of code that already locks the creation
        if guarded_by is not None:  # already locked: the guard only tells the planner which lock
            fix = self._guard(func, stmt, state, False, None)
        else:
            reason = self._lock_problem(ctx, state)
            if reason is None and not isinstance(ctx.parent(stmt), (cst.IndentedBlock, cst.Module)):
                reason = "the check is an `elif`; double-checked locking needs an `if` of its own"
            published = publication(ctx, stmt, state.key, facts.functions) if reason is None else None
            reason = reason or published.reason
            fix = _Fix(reason=reason) if reason else self._guard(func, stmt, state, calls_unknown_code(stmt.body), published.replacement)
        values = [a.value for a in assignments_in(stmt.body, state.key) if isinstance(a, (cst.Assign, cst.AnnAssign))]
        message = self._message(state, "created lazily", values)
        return self.site(stmt, message, domain=state.domain, fix=fix.guard, guarded_by=guarded_by, unfixable_reason=fix.reason)

    def _or_site(self, ctx: FileContext, func: cst.FunctionDef, assign: cst.Assign, state: _State) -> Site:
        """``X = X or make()``: the same as ``if not X: X = make()`` when storing ``X`` back
        to itself changes nothing, so that ``if`` is what gets double-checked."""
        guarded_by = ctx.guard_of(assign)
        line = ctx.parent(assign)
        reason = None
        if state.receiver is not None and not self._own_class_attribute(state):
            reason = (
                f"`{state.spelled} = {state.spelled} or ...` also stores the old value back, which for an "
                "attribute can copy an inherited class attribute or run a property setter; rewrite it as "
                f"`if not {state.spelled}: ...` by hand, then apply again"
            )
        elif not m.matches(line, m.SimpleStatementLine(body=[m.Assign()])) or not isinstance(ctx.parent(line), (cst.IndentedBlock, cst.Module)):
            reason = "the assignment shares its line with other statements"
        elif guarded_by is None:
            reason = self._lock_problem(ctx, state)
        if reason is not None:
            fix = _Fix(reason=reason)
        else:
            test = cst.UnaryOperation(operator=cst.Not(), expression=assign.targets[0].target.deep_clone())
            inner = line.with_changes(body=[assign.with_changes(value=_without_leftmost(assign.value))], leading_lines=())
            replacement = cst.If(test=test, body=cst.IndentedBlock(body=[inner]))
            fix = self._guard(func, line, state, calls_unknown_code(assign.value), replacement)
        message = self._message(state, "created lazily (`X = X or make()`)", [_without_leftmost(assign.value)])
        return self.site(assign, message, domain=state.domain, fix=fix.guard, guarded_by=guarded_by, unfixable_reason=fix.reason)

    @staticmethod
    def _own_class_attribute(state: _State) -> bool:
        """``Registry._instance`` where ``_instance`` is bound in ``Registry``'s own body:
        storing its value back to the same class attribute changes nothing."""
        if state.domain.kind != "class" or state.receiver != state.cls.name.value:
            return False
        body = state.cls.body.body if isinstance(state.cls.body, cst.IndentedBlock) else ()
        return any(state.name in top_level_bindings(s) for s in body)

    # --- fixing -----------------------------------------------------------------------
    @staticmethod
    def _lock_problem(ctx: FileContext, state: _State) -> str | None:
        """Why no lock can guard ``state``: an instance attribute of a class whose instances
        have no thread lock (``instance_lock_attributes``; a class-level lock, such as one
        ``apply`` added, does not count, so ``apply`` never fixes what ``scan`` refused).
        Which lock guards the fix is the planner's call."""
        if state.domain.kind != "instance" or instance_lock_attributes(ctx, state.cls):
            return None
        return (
            f"`{state.cls.name.value}` has no lock to guard `{state.spelled}` with; add one in "
            "`__init__` (`self._lock = threading.Lock()`) and check again under it"
        )

    @staticmethod
    def _guard(func: cst.FunctionDef, stmt: cst.CSTNode, state: _State, reentrant: bool, replacement: cst.If | None) -> _Fix:
        guard = Guard(
            stmt=stmt,
            state=state.name,
            domain=state.domain,
            function=func,
            reentrant=reentrant,
            receiver=state.receiver,
            double_checked=True,
            replacement=replacement,
            anchor=state.name,
        )
        return _Fix(guard=guard)

    # --- lru_cache ----------------------------------------------------------------------
    def _cached_singleton(self, ctx: FileContext, func: cst.FunctionDef, cachers: dict[str, str]) -> Site | None:
        """``@lru_cache`` on a function without parameters: a singleton factory."""
        params = func.params
        if params.params or params.posonly_params or params.kwonly_params or isinstance(params.star_arg, cst.Param) or params.star_kwarg:
            return None
        for decorator in func.decorators:
            target = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
            shown = ctx.code(target)
            if shown in cachers:
                name = func.name.value
                return self.site(
                    decorator,
                    f"`{name}()` is a zero-argument `@{shown}` factory used as a singleton: threads that "
                    "miss the cache together each call it and get different objects",
                    unfixable_reason=f"`{cachers[shown]}` cannot be made to call `{name}()` only once; "
                    "create the object lazily in a global under double-checked locking instead",
                    domain=MODULE,
                )
        return None


def _constructs(state: _State, value: cst.BaseExpression) -> bool:
    """``cls()``, ``Registry(...)``, ``super().__new__(cls)``: an instance of the class."""
    if not isinstance(value, cst.Call):
        return False
    if isinstance(value.func, cst.Name):
        return value.func.value in (state.receiver, state.cls.name.value)
    return m.matches(value.func, m.Attribute(attr=m.Name("__new__")))


def _leftmost(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
        expr = expr.left
    return expr


def _without_leftmost(expr: cst.BooleanOperation) -> cst.BaseExpression:
    """``X or a or b`` -> ``a or b``: what ``X = X or a or b`` stores when ``X`` is falsy."""
    if not isinstance(expr.left, cst.BooleanOperation) or not isinstance(expr.left.operator, cst.Or):
        return expr.right
    return expr.with_changes(left=_without_leftmost(expr.left))


def _functools_cachers(ctx: FileContext) -> dict[str, str]:
    """How this module spells ``functools.lru_cache``/``functools.cache``: spelling -> name."""
    found: dict[str, str] = {}
    for stmt in ctx.module.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if ctx.code(alias.name) == "functools":
                        local = alias.asname.name.value if alias.asname else "functools"
                        found.update({f"{local}.{n}": f"functools.{n}" for n in ("lru_cache", "cache")})
            elif m.matches(small, m.ImportFrom(module=m.Name("functools"), relative=[])) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    if alias.name.value in ("lru_cache", "cache"):
                        local = alias.asname.name.value if alias.asname else alias.name.value
                        found[local] = f"functools.{alias.name.value}"
    return found


# --- candidate(): the shapes check() looks for, on the standard library's ast ------------
_KEYWORDS = re.compile(r"\b(?:None|not|or)\b")
_FUNCTION = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BLOCKS = ("body", "handlers", "cases", "orelse", "finalbody")
_THREAD_CALLS = frozenset({"Thread", "Timer"})
_POOL_CALLS = frozenset({"submit", "map", "apply_async", "map_async", "imap", "imap_unordered", "start_new_thread"})


def _own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of ``body``, nested blocks included; a nested function or class is
    yielded but not entered (its code is not this body's)."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
            if isinstance(node, _SCOPE):
                continue
        for name in _BLOCKS:
            block = getattr(node, name, None)
            if isinstance(block, list):
                stack.extend(reversed(block))


def _identifier(text: str) -> str:
    """``text`` as the ``ast`` spells an identifier (NFKC-normalised)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _ast_key(expr: ast.AST | None) -> Key | None:
    """``key_of`` on the ``ast``: ``x`` -> (None, "x"); ``r.x`` -> ("r", "x")."""
    if isinstance(expr, ast.Name):
        return (None, expr.id)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return (expr.value.id, expr.attr)
    return None


def _string_key(receiver: ast.AST, value: ast.AST) -> Key | None:
    """(R, "x") for ``R`` and ``"x"`` of ``hasattr(R, "x")`` / ``"x" not in R.__dict__``."""
    if not isinstance(receiver, ast.Name) or not isinstance(value, ast.Constant) or not isinstance(value.value, str):
        return None
    return (receiver.id, _identifier(value.value)) if value.value.isidentifier() else None


def _checked_key(test: ast.expr) -> Key | None:
    """``checked_target`` on the ``ast``: the key of X in a test meaning "X does not exist yet"."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value is None:
            return _ast_key(test.left)
        if isinstance(op, ast.NotIn) and isinstance(right, ast.Attribute) and right.attr == "__dict__":
            return _string_key(right.value, test.left)
        return None
    if not isinstance(test, ast.UnaryOp) or not isinstance(test.op, ast.Not):
        return None
    operand = test.operand
    if isinstance(operand, ast.Call):
        if not isinstance(operand.func, ast.Name) or operand.func.id != "hasattr":
            return None
        # LibCST's Arg matchers leave `*`/`**` open: hasattr(*R, "x") matches there too.
        args = [a.value if isinstance(a, ast.Starred) else a for a in operand.args]
        if any(k.arg is not None for k in operand.keywords):
            return None
        args += [k.value for k in operand.keywords]
        return _string_key(args[0], args[1]) if len(args) == 2 else None
    return _ast_key(operand)


def _or_key(stmt: ast.Assign) -> Key | None:
    """The key of ``X = X or ...`` (``_OR_ASSIGN`` with X leftmost)."""
    if len(stmt.targets) != 1 or not isinstance(stmt.value, ast.BoolOp) or not isinstance(stmt.value.op, ast.Or):
        return None
    key = _ast_key(stmt.targets[0])
    left = stmt.value
    while isinstance(left, ast.BoolOp) and isinstance(left.op, ast.Or):
        left = left.values[0]
    return key if key is not None and _ast_key(left) == key else None


def _assigned_keys(body: list[ast.stmt]) -> set[Key]:
    """Keys that an ``Assign``/``AnnAssign`` in ``body`` binds (``assignments_in``)."""
    keys: set[Key] = set()
    for stmt in _own_statements(body):
        if isinstance(stmt, ast.Assign):
            keys.update(k for k in map(_ast_key, stmt.targets) if k is not None)
        elif isinstance(stmt, ast.AnnAssign):
            key = _ast_key(stmt.target)
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


class _Candidates:
    """One file's ``candidate()`` walk: each function once, module facts when first asked."""

    def __init__(self, tree: ast.Module, shared_classes: frozenset[str]) -> None:
        self.tree = tree
        self.shared_classes = {_identifier(name) for name in shared_classes}
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
        stack: list[tuple[ast.stmt, ast.ClassDef | None]] = [(s, None) for s in _own_statements(self.tree.body) if isinstance(s, _SCOPE)]
        while stack:
            node, owner = stack.pop()
            if isinstance(node, ast.ClassDef):
                direct = {id(s) for s in node.body}
                stack.extend((s, node if id(s) in direct else None) for s in _own_statements(node.body) if isinstance(s, _SCOPE))
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
        for stmt in _own_statements(func.body):
            if isinstance(stmt, ast.If):
                key = _checked_key(stmt.test)
                if key is not None and key in _assigned_keys(stmt.body):
                    keys.append(key)
            elif isinstance(stmt, ast.Assign):
                key = _or_key(stmt)
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
                for inner in _own_statements(stmt.body):
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
