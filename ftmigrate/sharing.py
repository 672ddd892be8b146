"""Whether a class's instances are shared between threads, and which code threads reach.

The ``ast`` answers to the questions ``ftmigrate.analysis`` answered on LibCST (same names,
parameters and meaning): ``shared_class_reason`` (why instances of a class are shared
between threads), ``shared_by_design`` (the class's own code says so), ``thread_safe_member``,
``says_thread_safe``, ``instance_lock_attributes``, ``is_thread_subclass``,
``thread_entry_methods``, ``handed_to_threads`` and ``called_functions``. Answers that do
not change within a file are kept in ``ctx.memo`` (keys ``"sharing.*"``).
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, Sequence

from ftmigrate.analysis import (
    FUNCTION_BOUNDARY,
    FUNCTIONS,
    POOL_METHODS,
    THREAD_MODULES,
    THREAD_SAFE_TYPES,
    FileContext,
    _assignments,
    call_arguments,
    dotted,
    find_in,
    iter_function_nodes,
    looks_like_lock_name,
    walk,
)

_TIMERS = ("Timer",)


def _memo(ctx: FileContext, key: str) -> dict:
    """A per-file cache kept in ``ctx.memo`` under ``"sharing." + key``."""
    cache = ctx.memo.get(f"sharing.{key}")
    if cache is None:
        cache = ctx.memo[f"sharing.{key}"] = {}
    return cache


def _methods(cls: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [s for s in cls.body if isinstance(s, FUNCTIONS)]


def _bases(cls: ast.ClassDef) -> list[ast.expr]:
    """The base class expressions as LibCST's ``Arg.value`` (``*bases``: ``bases``)."""
    return [b.value if isinstance(b, ast.Starred) else b for b in cls.bases]


def shared_class_reason(ctx: FileContext, cls: ast.ClassDef) -> str | None:
    """Why instances of ``cls`` are shared between threads, or None if nothing says so.

    Evidence, in order: named in config (``shared-classes``); its instances have a thread
    lock attribute (``instance_lock_attributes``); it
    subclasses ``threading.Thread``; one of its methods is handed to a thread or an executor
    in this module (``Thread(target=obj.run)``, ``pool.submit(obj.step)``, ``pool.map(obj.f, …)``)
    where ``obj`` is ``self`` inside the class or a name bound to ``ClassName(...)``; the rest
    of ``shared_by_design`` (a thread-safe queue, its documentation, a base class).
    """
    reasons = ctx.shared_reasons
    if cls not in reasons:
        reasons[cls] = _shared_class_reason(ctx, cls)
    return reasons[cls]


def _shared_class_reason(ctx: FileContext, cls: ast.ClassDef) -> str | None:
    if cls.name in ctx.shared_classes:
        return "listed in shared-classes"
    if instance_lock_attributes(ctx, cls):
        return "its instances have a thread lock attribute"
    if is_thread_subclass(ctx, cls):
        return "it subclasses threading.Thread"
    for method in thread_entry_methods(ctx, cls):
        return f"its method {method}() is run by threads"
    return shared_by_design(ctx, cls)


def shared_by_design(ctx: FileContext, cls: ast.ClassDef, _seen: frozenset = frozenset()) -> str | None:
    """Why the class's own code says its instances are meant for several threads, or None:
    each instance gets a thread lock (``instance_lock_attributes``); it keeps a thread-safe
    ``queue`` queue (``queue.LifoQueue``, also named as a class attribute ``QueueCls =
    queue.LifoQueue``); its docstring, or a method's, says it is thread-safe or shared
    between threads (not "not thread-safe"); or a class of this module it derives from, and
    whose ``__init__`` it runs, says so. The evidence is the author's intent, not a proof
    that threads share one."""
    if not _seen:
        cache = _memo(ctx, "by_design")
        if cls not in cache:
            cache[cls] = _shared_by_design(ctx, cls, _seen)
        return cache[cls]
    return _shared_by_design(ctx, cls, _seen)


def _shared_by_design(ctx: FileContext, cls: ast.ClassDef, _seen: frozenset) -> str | None:
    if instance_lock_attributes(ctx, cls):
        return "its instances have a thread lock attribute"
    member = thread_safe_member(ctx, cls)
    if member is not None:
        return f"it keeps a thread-safe `{member}`"
    said = says_thread_safe(cls, ctx)
    if said is not None:
        return f"its documentation says \"{said}\""
    classes = _top_level(ctx)[1]
    for base in _bases(cls):
        named = classes.get(base.id) if isinstance(base, ast.Name) else None
        if named is not None and named is not cls and named not in _seen and _runs_base_init(cls, named.name):
            reason = shared_by_design(ctx, named, _seen | {cls})
            if reason is not None:
                return f"it derives from `{named.name}`: {reason}"
    return None


def _runs_base_init(cls: ast.ClassDef, base: str) -> bool:
    """Instances of ``cls`` are set up by ``base.__init__`` too: ``cls`` has no ``__init__``
    of its own, or its ``__init__`` calls ``super().__init__`` or ``base.__init__``."""
    init = next((s for s in _methods(cls) if s.name == "__init__"), None)
    if init is None:
        return True
    return any(_calls_init_of(node, base) for node in walk(init.body))


def _calls_init_of(node: ast.AST, base: str) -> bool:
    """``super().__init__(...)`` or ``base.__init__(...)``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
        return False
    owner = node.func.value
    return (isinstance(owner, ast.Name) and owner.id == base) or (
        isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super"
    )


def thread_safe_member(ctx: FileContext, cls: ast.ClassDef) -> str | None:
    """``queue.LifoQueue`` when the class binds a class attribute, or an attribute of a
    method's ``self``, to a ``queue`` queue type or a call of one."""
    modules = _module_aliases(ctx)
    if not modules:
        return None
    for node in walk(cls.body):
        for target, value in _assignments(node):
            if not isinstance(target, (ast.Name, ast.Attribute)):
                continue
            made = value.func if isinstance(value, ast.Call) else value
            spelled = dotted(made) or ""
            module, _, name = spelled.rpartition(".")
            real = modules.get(module) if module else modules.get(f".{name}")
            if real is not None and name in THREAD_SAFE_TYPES.get(real, ()):
                return f"{real}.{name}"
    return None


def _module_aliases(ctx: FileContext) -> dict[str, str]:
    """How the module names ``queue``: ``{"queue": "queue", ".LifoQueue": "queue"}`` (a
    leading dot: a name imported from the module)."""
    cached = ctx.memo.get("sharing.module_aliases")
    if cached is not None:
        return cached
    found: dict[str, str] = {}
    for stmt in ctx.tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name in THREAD_SAFE_TYPES:
                    found[alias.asname or alias.name] = alias.name
        elif isinstance(stmt, ast.ImportFrom) and not stmt.level and stmt.module is not None:
            if stmt.module in THREAD_SAFE_TYPES:
                for alias in stmt.names:
                    if alias.name != "*" and (alias.asname or alias.name) == alias.name:
                        found[f".{alias.name}"] = stmt.module
    ctx.memo["sharing.module_aliases"] = found
    return found


# "X is thread-safe", "Topology is shared among multiple threads": the affirmative forms only.
_SAYS_SHARED = re.compile(
    r"\b(?:is|are)\s+(?:(?P<word>\w+)\s+)?(?P<said>thread[- ]?safe|shared\s+(?:between|among|across|by)\s+"
    r"(?:multiple\s+|several\s+|many\s+|all\s+|different\s+)?threads)\b",
    re.IGNORECASE,
)
# A sentence with one of these says "not", or only under a condition: no evidence.
_HEDGED = re.compile(r"\b(?:not|never|no|only|unless|nor|if|while|except)\b|n't\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def says_thread_safe(cls: ast.ClassDef, ctx: FileContext | None = None) -> str | None:
    """The words of the class's docstring, or one of its methods', that say in a plain
    sentence that it is thread-safe or shared between threads ("This class is
    thread-safe.", "Topology is shared among multiple threads and is protected by a
    lock."); not a sentence that says "not", "only", "unless", "if" ("The Connection is
    **not** thread-safe", "the only thread-safe method", "can be shared among threads").
    A docstring on the header's line (``class C: "..."``) is not read (as before), which
    takes ``ctx`` to tell; without it every docstring is read."""
    for owner in (cls, *_methods(cls)):
        doc = ast.get_docstring(owner, clean=False)
        if doc is None or (ctx is not None and not _indented_body(ctx, owner)):
            continue
        for sentence in _SENTENCE_END.split(doc):
            found = _SAYS_SHARED.search(sentence)
            if found is not None and not _HEDGED.search(sentence):
                return " ".join(found.group("said").split())
    return None


def _indented_body(ctx: FileContext, owner: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The body is an indented block (LibCST's IndentedBlock), not on the header's line."""
    from ftmigrate.spans import in_indented_block

    return in_indented_block(ctx, owner.body[0])


def instance_lock_attributes(ctx: FileContext, cls: ast.ClassDef) -> list[str]:
    """Attributes that a method of ``cls`` binds, through its ``self``, to a ``threading``
    lock factory call, or a call of the project's own lock maker (``_project_lock``): each instance carries its own thread lock, which says its methods
    are meant to be called from several threads. Class-level locks do not say that (they
    guard class state, and they are what ``apply`` adds, so they are never evidence:
    ``apply`` then finds exactly what ``scan`` showed). Only ``threading`` factories count:
    an ``asyncio.Lock`` says coroutines share the object, not threads."""
    cache = _memo(ctx, "instance_locks")
    found = cache.get(cls)
    if found is not None:
        return list(found)  # a copy: callers may change theirs
    found = []
    for stmt in _methods(cls):
        if ctx.method_kind(stmt) == "instance":
            receiver = ctx.first_param(stmt)
            for node in iter_function_nodes(stmt):
                for target, value in _assignments(node):
                    if (
                        isinstance(target, ast.Attribute)
                        and dotted(target.value) == receiver
                        and (ctx.lock_kind(value, THREAD_MODULES) is not None or _project_lock(ctx, target.attr, value))
                        and target.attr not in found
                    ):
                        found.append(target.attr)
    cache[cls] = found
    return list(found)


def _project_lock(ctx: FileContext, attr: str, value: ast.expr) -> bool:
    """``self._state_lock = Lock()`` where ``Lock`` is the project's own thread-lock maker
    (``ftmigrate.lockmakers``), and the attribute or the maker is named like a lock."""
    return (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ctx.project_lock_makers
        and (looks_like_lock_name(attr) or looks_like_lock_name(value.func.id))
    )


def is_thread_subclass(ctx: FileContext, cls: ast.ClassDef) -> bool:
    for base in _bases(cls):
        target = dotted(base) or ""
        if target in ("threading.Thread", *(f"{a}.Thread" for a in ctx.threading_aliases)) or (
            target and target == ctx.threading_names.get("Thread")
        ):
            return True
    return False


_REPEATING = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def thread_entry_methods(ctx: FileContext, cls: ast.ClassDef) -> dict[str, bool]:
    """Methods of ``cls`` handed to a thread or an executor in this module, each mapped to
    whether several threads may run it at once: handed to a pool, or to ``Thread``s created
    in a loop or comprehension. A method is handed over as ``obj.method`` where ``obj`` is
    ``self`` inside the class or a name bound to ``ClassName(...)``."""
    cache = _memo(ctx, "entries")
    entries = cache.get(cls)
    if entries is not None:
        return dict(entries)  # a copy: callers may change theirs (FT004 adds `run`)
    entries = {}
    handed = handed_to_threads(ctx)
    if handed:
        methods = {s.name for s in _methods(cls)}
        instances = {"self"} | _names_bound_to_call_of(ctx, cls.name)
        for call, expr, pool in handed:
            if (
                isinstance(expr, ast.Attribute)
                and expr.attr in methods
                and isinstance(expr.value, ast.Name)
                and expr.value.id in instances
                and (expr.value.id != "self" or ctx.enclosing_class(call) is cls)
            ):
                repeated = pool or any(isinstance(a, _REPEATING) for a in _up_to_function(ctx, call))
                entries[expr.attr] = entries.get(expr.attr, False) or repeated
    cache[cls] = entries
    return dict(entries)


def handed_to_threads(ctx: FileContext) -> list[tuple[ast.Call, ast.expr, bool]]:
    """Every callable handed to a thread or an executor in the module: (the call, the
    callable's expression, whether it went to a pool). ``Thread(target=f)``,
    ``Timer(t, f)``, ``pool.submit(f, ...)``, ``pool.map(f, ...)``, ``start_new_thread(f, ...)``."""
    handed = ctx.memo.get("sharing.handed")
    if handed is not None:
        return handed
    handed = []
    for call in ctx.thread_handoffs:
        args = call_arguments(call)
        candidates = [value for keyword, value in args if keyword == "target"]
        func = call.func
        pool = isinstance(func, ast.Attribute) and func.attr in POOL_METHODS
        if pool:
            candidates += [value for keyword, value in args[:1] if keyword is None]
        elif (isinstance(func, ast.Name) and func.id in _TIMERS) or (isinstance(func, ast.Attribute) and func.attr in _TIMERS):
            candidates += [value for keyword, value in args[1:2] if keyword is None]
        handed += [(call, expr, pool) for expr in candidates]
    ctx.memo["sharing.handed"] = handed
    return handed


def _up_to_function(ctx: FileContext, node: ast.AST) -> Iterator[ast.AST]:
    for a in ctx.ancestors(node):
        if isinstance(a, FUNCTION_BOUNDARY):
            return
        yield a


def _names_bound_to_call_of(ctx: FileContext, class_name: str) -> set[str]:
    """Names assigned ``ClassName(...)`` anywhere in the module."""
    bound = ctx.memo.get("sharing.bound_to_call")
    if bound is None:
        bound = {}
        for target, value in ctx.assignments:
            if isinstance(target, ast.Name) and isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                bound.setdefault(value.func.id, set()).add(target.id)
        ctx.memo["sharing.bound_to_call"] = bound
    return bound.get(class_name, set())


def _top_level(ctx: FileContext) -> tuple[dict[str, ast.AST], dict[str, ast.ClassDef], dict]:
    """The module's first top-level function and class of each name, and a cache of each
    class's first method of each name."""
    cached = ctx.memo.get("sharing.top_level")
    if cached is None:
        functions: dict[str, ast.AST] = {}
        classes: dict[str, ast.ClassDef] = {}
        for s in ctx.tree.body:
            if isinstance(s, FUNCTIONS):
                functions.setdefault(s.name, s)
            elif isinstance(s, ast.ClassDef):
                classes.setdefault(s.name, s)
        cached = ctx.memo["sharing.top_level"] = (functions, classes, {})
    return cached


def _method_named(ctx: FileContext, cls: ast.ClassDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    methods = _top_level(ctx)[2]
    named = methods.get(cls)
    if named is None:
        named = methods[cls] = {}
        for s in _methods(cls):
            named.setdefault(s.name, s)
    return named.get(name)


def _resolve_call(
    ctx: FileContext, call: ast.Call, caller: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function of this module a call runs, when it can be told: ``helper()`` (a
    module-level function), ``self.method()`` / ``cls.method()`` from a method, or
    ``ClassName.method()``."""
    func = call.func
    functions, classes, _ = _top_level(ctx)
    if isinstance(func, ast.Name):
        return functions.get(func.id)
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return None
    receiver, name = func.value.id, func.attr
    if caller is not None and ctx.method_class(caller) is not None and ctx.first_param(caller) == receiver:
        cls = ctx.method_class(caller)
    else:
        cls = classes.get(receiver)
    return None if cls is None else _method_named(ctx, cls, name)


def _is_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call)


def called_functions(
    ctx: FileContext, stmts: Sequence[ast.AST | list], caller: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions of this module that ``stmts`` call, directly or through each other (each
    item of ``stmts`` a node, or a list of statements such as a function's ``body``)."""
    found: list = []
    work = [(stmt, caller) for stmt in stmts]
    while work:
        node, context = work.pop()
        for call in find_in(node, _is_call):
            callee = _resolve_call(ctx, call, context)
            if callee is not None and all(callee is not f for f in found):
                found.append(callee)
                work.append((callee.body, callee))
    return found
