"""What a library's own code says about threads, beyond locks and thread starts.

- ``documented_not_thread_safe``: the docstring of a function, or of the class it is a
  method of, says it is not thread-safe ("This is not a thread-safe operation.", "not safe
  for use in concurrent threads"): its author leaves serialising calls to the caller, so a
  race there is a misuse, not a defect of the code. Comments do not count: a comment that
  admits a race ("XXX: not thread-safe") is no contract.
- ``designed_for_threads``: a class built for use by several threads: its docstring says it
  is thread-safe, or it creates ``queue.Queue`` objects (a queue's blocking ``get``/``put``
  only serve to hand work between threads; an ``asyncio.Queue`` is not one).

(The ``ast`` port of ``ftmigrate.design``: same answers.)
"""

from __future__ import annotations

import ast
import re

from ftmigrate.analysis import THREAD_SAFE_TYPES, FileContext, dotted, walk

_NOT_THREAD_SAFE = re.compile(
    r"(?:\bnot|n't|\bnever)[\s*_]+(?:an?\s+)?[*_]{0,2}thread[- ]?safe"
    r"|\bnot[\s*_]+safe\s+(?:for|to)\b[^.]{0,40}\b(?:concurrent\s+)?threads\b",
    re.IGNORECASE,
)
_THREAD_SAFE = re.compile(r"\bthread[- ]?safe\b", re.IGNORECASE)
_THREAD_QUEUES = THREAD_SAFE_TYPES["queue"]


def documented_not_thread_safe(ctx: FileContext, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """How to name it (`` `f()` `` or `` `Class` ``) when the docstring of ``func`` or of
    the class it is a method of says it is not thread-safe."""
    cls = ctx.method_class(func)
    for owner, shown in ((func, f"`{func.name}()`"), (cls, f"`{cls.name}`" if cls else "")):
        doc = ast.get_docstring(owner) if owner is not None else None
        if doc and _NOT_THREAD_SAFE.search(doc):
            return shown
    return None


def designed_for_threads(ctx: FileContext, cls: ast.ClassDef) -> str | None:
    """Why ``cls`` is built for several threads (see the module docstring), or None."""
    doc = ast.get_docstring(cls)
    if doc and _THREAD_SAFE.search(doc) and not _NOT_THREAD_SAFE.search(doc):
        return "its docstring says it is thread-safe"
    names = _queue_names(ctx)
    if names:
        for node in walk(cls.body):
            if isinstance(node, ast.Call) and dotted(node.func) in names:
                return f"it creates `{dotted(node.func)}()` objects, which hand work between threads"
    return None


def _queue_names(ctx: FileContext) -> frozenset[str]:
    """How the module names the ``queue`` module's queue classes (``Queue``, ``queue.Queue``,
    ``q.SimpleQueue``...)."""
    cached = ctx.memo.get("queue_names")
    if cached is None:
        names: set[str] = set()
        for node in ctx.find((ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "queue":
                        bound = alias.asname if alias.asname is not None else "queue"
                        names |= {f"{bound}.{kind}" for kind in _THREAD_QUEUES}
            elif node.module == "queue" and not node.level:
                for alias in node.names:
                    if alias.name in _THREAD_QUEUES:
                        names.add(alias.asname if alias.asname is not None else alias.name)
        cached = ctx.memo["queue_names"] = frozenset(names)
    return cached
