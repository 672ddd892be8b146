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
  threads); a closure that leaves its function; an asyncio race (an ``await`` between the
  read and the write).
- ``low``: no evidence that two threads reach the state:
  - instance state of a class with nothing that says its instances are shared (most objects
    belong to one thread: a request handler, a connection's protocol object); a lock that
    is class-level, or not a ``threading`` lock (``asyncio.Lock``), says nothing about who
    shares an instance; a class with ``async`` methods keeps its state on its event loop's
    thread;
  - a ``nonlocal`` counter in a helper closure that never leaves its function (only the one
    call that defined it can run it), or that is only passed to calls (a ``key=`` or visitor
    function the callee runs during the call);
  - code in ``async def`` with no ``await`` in the reported statement: coroutines on one
    event loop cannot interleave it (with an ``await`` inside it is an asyncio race, which
    a thread lock cannot fix; the planner never puts a thread lock around an ``await``);
  - state keyed by the current thread (``d[threading.get_ident()] += 1``);
  - instance state changed while the object is being built (``__init__``, ``__new__``,
    ``__post_init__``, ``__setstate__``): no other thread has it yet; a private function
    the module calls only at import time, or only from constructors for instance state
    (two threads building two objects still share class and module state); a command-line entry point
    (``main()``, ``__main__.py``, Django management commands);
  - test code (a ``test_*.py``/``*_test.py`` file, ``conftest.py`` or a ``tests`` folder)
    that no thread started in its module runs: a test runner runs tests one at a time.

Scans report ``medium`` and ``high`` by default (``--min-confidence``); ``apply`` fixes what
the run reports, so a ``low`` finding is neither shown nor changed unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import FileContext, instance_lock_attributes, shared_by_design, shared_class_reason, suspends
from ftmigrate.threads import closure_escapes, reached_by_threads
from ftmigrate.treewalk import walk

if TYPE_CHECKING:
    from ftmigrate.rules import Site

LEVELS = ("low", "medium", "high")
DEFAULT_MIN = "medium"
CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__", "__setstate__", "__init_subclass__", "__set_name__"})
_THREAD_KEY = m.Call(func=m.Attribute(attr=m.Name("get_ident") | m.Name("current_thread") | m.Name("get_native_id")))
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
    if func is not None and func.asynchronous is not None and not threaded:
        statements = (site.node, *getattr(site.fix, "followers", ()))
        if not any(suspends(stmt) for stmt in statements):
            return Confidence("low", "in `async def` with no `await` inside: one event loop cannot interleave it")
        return Confidence(
            "medium", "an asyncio race: other coroutines run at the `await` between the read and the write "
            "(a thread lock cannot fix that; an `asyncio.Lock` can)"
        )
    if any(m.matches(n, _THREAD_KEY) for n in walk(site.node)):
        return Confidence("low", "keyed by the current thread: two threads never use the same entry")
    if threaded:
        return Confidence("high", f"`{func.name.value}()` runs in threads started in this module")
    if project_reason is not None and kind != "closure":
        return Confidence("high", f"threads run it: {project_reason}")
    if is_test_path(ctx.path):
        return Confidence("low", "test code that no thread of its module runs (tests run one at a time)")
    phase = single_threaded_phase(ctx, func, kind) if func is not None else None
    if phase is not None:
        return Confidence("low", phase)
    if kind == "instance":
        return _instance_state(ctx, site.domain.owner)
    if kind == "closure":
        escape = closure_escapes(ctx, site.domain.owner)
        if escape is None:
            return Confidence("low", f"the closure never leaves `{site.domain.owner.name.value}()`: only one call can run it")
        if escape == "thread":
            return Confidence("high", "the closure is handed to a thread")
        if escape == "passed":
            return Confidence(
                "low", f"the closure is only passed to calls in `{site.domain.owner.name.value}()` "
                "(a key or visitor function run during the call, as far as the module shows)"
            )
        return Confidence("medium", "the closure leaves its function and may be called from any thread")
    return Confidence("medium", "shared state changed by code that any thread may call")


def _instance_state(ctx: FileContext, cls: cst.ClassDef) -> Confidence:
    """Instance state: shared by design (high), maybe (medium), or owned by one thread (low)."""
    name = cls.name.value
    reason = shared_class_reason(ctx, cls)
    if reason is None:
        return Confidence("low", f"nothing shows that `{name}` instances are used by more than one thread")
    if reason.endswith(_BY_THREAD_REASONS):
        return Confidence("high", f"`{name}` instances are shared: {reason}")
    if any(isinstance(s, cst.FunctionDef) and s.asynchronous is not None for s in _class_body(cls)):
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


def _class_body(cls: cst.ClassDef) -> list[cst.CSTNode]:
    return list(cls.body.body) if isinstance(cls.body, cst.IndentedBlock) else []


_COMMAND_PARTS = ("management/commands/", "__main__.py", "/bin/", "/scripts/")


def single_threaded_phase(ctx: FileContext, func: cst.FunctionDef, kind: str | None) -> str | None:
    """Why ``func`` runs before other threads can reach the state, or None: an object's
    constructor (for its own instance state); a private function or method that the module
    calls only at import time (or, for instance state, only from constructors); a
    command-line entry point."""
    name = func.name.value
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
        if sites and kind == "instance" and all(c is None or c.name.value in CONSTRUCTORS for c in callers):
            return f"`{name}()` is only called while objects are built or the module is imported"
    return None


def is_test_path(path: PurePath | None) -> bool:
    if path is None:
        return False
    path = PurePath(path)
    name = path.name
    return (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        or any(part in ("test", "tests", "testing") for part in path.parts[:-1])
    )



def kind_of(site: Site) -> str | None:
    return site.domain.kind if site.domain is not None else None


def qualified_name(ctx: FileContext, func: cst.FunctionDef) -> str:
    """``Class.method``, ``function``, ``outer.inner``: as ``ftmigrate.project_index`` names it."""
    names = [func.name.value]
    for node in ctx.ancestors(func):
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            names.append(node.name.value)
    return ".".join(reversed(names))
