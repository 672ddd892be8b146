"""How sure ftmigrate is that a finding can really race: ``high``, ``medium`` or ``low``.

One assessment for every rule, from what the site's state is (its lock ``Domain``) and where
the code runs. Levels:

- ``high``: the state is reached from threads, as this module shows: the function is a
  thread target or an executor task (``Thread(target=f)``, ``Timer``, ``pool.submit/map``),
  or is called from one, directly or through other functions of the module; a class whose
  instances threads share by design (a ``threading.Thread`` subclass, a method handed to a
  thread, or listed in ``shared-classes``); a closure handed to a thread.
- ``medium``: module state or class attributes changed by a function that any thread may
  call (a library's global counter, registry or cache: the article's main example); the
  state of a class whose instances each get a ``threading`` lock (its author expects
  threads), that creates ``queue.Queue`` objects or says it is thread-safe
  (``ftmigrate.design``); a closure that leaves its function (returned, stored on an
  object, registered as a callback, decorated: ``ftmigrate.closures``); an asyncio race (an
  ``await`` on a way from the read to the write).
- ``low``: no evidence that two threads reach the state:
  - instance state of a class with nothing that says its instances are shared (most objects
    belong to one thread: a request handler, a connection's protocol object); a lock that
    is class-level, or not a ``threading`` lock (``asyncio.Lock``), says nothing about who
    shares an instance; a class with ``async`` methods keeps its state on its event loop's
    thread;
  - a ``nonlocal`` counter in a helper closure that never leaves its function (only the one
    call that defined it can run it; rebinding it, ``clone = None``, is no escape), or that
    is only passed to calls (a ``key=`` or visitor function the callee runs during the call);
  - code in ``async def`` with no ``await`` between the read and the write: coroutines on
    one event loop cannot interleave it (an ``await`` in a branch that then returns or
    raises without touching the state again is not between them; with one between them it
    is an asyncio race, which a thread lock cannot fix; the planner never puts a thread lock
    around an ``await``);
  - a function or class whose docstring says it is not thread-safe: serialising calls is
    the caller's part of the contract;
  - state keyed by the current thread (``d[threading.get_ident()] += 1``);
  - instance state changed while the object is being built (``__init__``, ``__new__``,
    ``__post_init__``, ``__setstate__``): no other thread has it yet; a private function
    the module calls only at import time, or only from constructors for instance state
    (two threads building two objects still share class and module state), or that the whole
    project calls only from import-time code (module level, class bodies, decorators; the
    function a ``@_registers(...)`` factory returns): ``ftmigrate.project_index``; a command-line entry point
    (``main()``, ``__main__.py``, Django management commands);
  - test code (a ``test_*.py``/``*_test.py`` file, ``conftest.py`` or a ``tests`` folder)
    that no thread started in its module runs: a test runner runs tests one at a time.

Scans report ``medium`` and ``high`` by default (``--min-confidence``); ``apply`` fixes what
the run reports, so a ``low`` finding is neither shown nor changed unless asked for.

(The ``ast`` port of ``ftmigrate.confidence``: same levels, same reasons.)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from ftmigrate.analysis import FUNCTIONS, FileContext, identifier_nodes, iter_function_nodes
from ftmigrate.closures import closure_escapes
from ftmigrate.design import designed_for_threads, documented_not_thread_safe
from ftmigrate.project_index import is_test_path
from ftmigrate.sharing import instance_lock_attributes, shared_by_design, shared_class_reason
from ftmigrate.threads import reached_by_threads

if TYPE_CHECKING:
    from ftmigrate.rules import Site

LEVELS = ("low", "medium", "high")
DEFAULT_MIN = "medium"
CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__", "__setstate__", "__init_subclass__", "__set_name__"})
_THREAD_KEYS = frozenset({"get_ident", "current_thread", "get_native_id"})
_BY_THREAD_REASONS = ("subclasses threading.Thread", "is run by threads", "listed in shared-classes")


@dataclass(frozen=True)
class Confidence:
    level: str  # one of LEVELS
    reason: str


def at_least(level: str, minimum: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(minimum)


def assess(ctx: FileContext, site: Site) -> Confidence:
    """The confidence of one site (see the module docstring)."""
    func = ctx.enclosing_function(site.node)
    kind = kind_of(site)
    threaded = func is not None and func in reached_by_threads(ctx)
    project_reason = ctx.project_threads.get(qualified_name(ctx, func)) if func is not None else None
    if isinstance(func, ast.AsyncFunctionDef) and not threaded:
        if not awaits_between(ctx, site):
            return Confidence("low", "in `async def` with no `await` between the read and the write: one event loop "
                              "cannot interleave it")
        return Confidence(
            "medium", "an asyncio race: other coroutines run at the `await` between the read and the write "
            "(a thread lock cannot fix that; an `asyncio.Lock` can)"
        )
    if any(_thread_key(n) for n in ast.walk(site.node)):
        return Confidence("low", "keyed by the current thread: two threads never use the same entry")
    if threaded:
        return Confidence("high", f"`{func.name}()` runs in threads started in this module")
    if project_reason is not None and kind != "closure":
        return Confidence("high", f"threads run it: {project_reason}")
    if is_test_path(ctx.path):
        return Confidence("low", "test code that no thread of its module runs (tests run one at a time)")
    documented = documented_not_thread_safe(ctx, func) if func is not None else None
    if documented is not None:
        return Confidence("low", f"{documented} documents that it is not thread-safe: callers must not share it "
                          "between threads")
    phase = single_threaded_phase(ctx, func, kind) if func is not None else None
    if phase is not None:
        return Confidence("low", phase)
    if kind == "instance":
        return _instance_state(ctx, site.domain.owner)
    if kind == "closure":
        escape = closure_escapes(ctx, site.domain.owner)
        if escape is None:
            return Confidence("low", f"the closure never leaves `{site.domain.owner.name}()`: only one call can run it")
        if escape == "thread":
            return Confidence("high", "the closure is handed to a thread")
        if escape == "passed":
            return Confidence(
                "low", f"the closure is only passed to calls in `{site.domain.owner.name}()` "
                "(a key or visitor function run during the call, as far as the module shows)"
            )
        return Confidence("medium", "the closure leaves its function and may be called from any thread")
    return Confidence("medium", "shared state changed by code that any thread may call")


def _thread_key(node: ast.AST) -> bool:
    """``threading.get_ident()``, ``x.current_thread()``, ``x.get_native_id()``."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _THREAD_KEYS


def awaits_between(ctx: FileContext, site: Site) -> bool:
    """An ``await`` (or ``yield``) in the reported statements on a way from the read to the
    write. One in a block that then returns or raises without touching the state again
    (``if name in self.aliases: await comm.write(msg); return``) is not: that way never
    reaches the write."""
    statements = (site.node, *site.followers)
    name = site.state.rsplit(".", 1)[-1] if site.state else None
    return any(
        isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom)) and not _then_leaves(ctx, node, name, statements)
        for stmt in statements for node in ast.walk(stmt)
    )


def _then_leaves(ctx: FileContext, node: ast.AST, name: str | None, roots: tuple) -> bool:
    """After ``node``, its block returns or raises and never names the state ``name``.
    (The block as LibCST saw it: an indented block, from the start of the line of
    statements that holds ``node``'s statement; "names" as LibCST's ``Name`` nodes do,
    attribute names too.)"""
    from ftmigrate.spans import in_indented_block, simple_line

    if name is None:
        return False
    child = node
    for parent in ctx.ancestors(node):
        if any(child is root for root in roots):
            return False
        if isinstance(child, ast.stmt) and not isinstance(parent, ast.Module) and in_indented_block(ctx, child):
            owner, field, _ = ctx.block_of(child)
            block = getattr(owner, field)
            first = simple_line(ctx, child)[0]
            rest = block[next(i for i, s in enumerate(block) if s is first):]
            if isinstance(rest[-1], (ast.Return, ast.Raise)):
                return not any(spelled == name for spelled, _ in identifier_nodes(rest))
        child = parent
    return False


def _instance_state(ctx: FileContext, cls: ast.ClassDef) -> Confidence:
    """Instance state: shared by design (high), maybe (medium), or owned by one thread (low)."""
    name = cls.name
    reason = shared_class_reason(ctx, cls)
    if reason is None:
        design = designed_for_threads(ctx, cls)
        if design is not None:
            return Confidence("medium", f"`{name}` instances may be shared: {design}")
        return Confidence("low", f"nothing shows that `{name}` instances are used by more than one thread")
    if reason.endswith(_BY_THREAD_REASONS):
        return Confidence("high", f"`{name}` instances are shared: {reason}")
    if any(isinstance(s, ast.AsyncFunctionDef) for s in cls.body):
        return Confidence("low", f"`{name}` has `async` methods: its state belongs to its event loop's thread")
    locks = instance_lock_attributes(ctx, cls)
    if locks:
        return Confidence("medium", f"`{name}` instances may be shared: each has a `threading` lock (`self.{locks[0]}`)")
    design = shared_by_design(ctx, cls)
    if design is None:
        return Confidence(
            "low", f"`{name}` has no `threading` lock of its own per instance (a class-level or non-threading lock "
            "says nothing about who shares an instance)"
        )
    return Confidence("medium", f"`{name}` instances may be shared: {design}")


_COMMAND_PARTS = ("management/commands/", "__main__.py", "/bin/", "/scripts/")


def single_threaded_phase(ctx: FileContext, func: ast.FunctionDef | ast.AsyncFunctionDef, kind: str | None) -> str | None:
    """Why ``func`` runs before other threads can reach the state, or None: an object's
    constructor (for its own instance state); a private function or method that the module
    calls only at import time (or, for instance state, only from constructors); a
    command-line entry point."""
    name = func.name
    if kind == "instance" and name in CONSTRUCTORS:
        return f"runs while the object is being built (`{name}`), before other threads can have it"
    path = PurePath(ctx.path).as_posix() if ctx.path is not None else ""
    if name in ("main", "_main") or any(part in path for part in _COMMAND_PARTS):
        return "a command-line entry point: it runs once, in the main thread"
    if name.startswith("_") and not name.endswith("__"):
        sites = ctx.call_sites(func)
        callers = [ctx.enclosing_function(site) for site in sites]
        if sites and all(c is None for c in callers):
            return f"`{name}()` is only called while the module is imported"
        # Building an object keeps only that object's own state from other threads: two
        # threads that build two objects still share class and module state.
        if sites and kind == "instance" and all(c is None or c.name in CONSTRUCTORS for c in callers):
            return f"`{name}()` is only called while objects are built or the module is imported"
    return _import_time(ctx, func)


def _import_time(ctx: FileContext, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """A private function that the project calls only from code run while modules are
    imported (``ftmigrate.project_index``), or the function such a decorator factory
    returns (``def _inspects(*types): def decorate(fn): ...; return decorate`` used only as
    ``@_inspects(X)``)."""
    imported = "runs only while modules are imported (module-level code, class bodies, decorators), in one thread"
    if ctx.project_import_time.get(qualified_name(ctx, func)) is not None:
        return f"`{func.name}()` {imported}"
    outer = ctx.enclosing_function(func)
    if outer is not None and ctx.project_import_time.get(qualified_name(ctx, outer)) == "factory":
        uses = [n for n in iter_function_nodes(outer) if isinstance(n, ast.Name) and n.id == func.name]
        returned = [n for n in uses if isinstance(ctx.parent(n), ast.Return)]
        if returned and all(n in returned or _called(ctx, n) for n in uses):
            return f"`{func.name}()` is what `@{outer.name}(...)` returns: it {imported}"
    return None


def _called(ctx: FileContext, name: ast.Name) -> bool:
    parent = ctx.parent(name)
    return isinstance(parent, ast.Call) and parent.func is name


def kind_of(site: Site) -> str | None:
    return site.domain.kind if site.domain is not None else None


def qualified_name(ctx: FileContext, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``Class.method``, ``function``, ``outer.inner``: as ``ftmigrate.project_index`` names it."""
    names = [func.name]
    for node in ctx.ancestors(func):
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            names.append(node.name)
    return ".".join(reversed(names))
