"""Which code of a module threads run.

The module-level part of the thread evidence that ``ftmigrate.confidence`` grades findings
by (the project-wide index that follows calls across modules builds on these answers):

- ``thread_targets``: functions handed to threads or executors (``Thread(target=f)``,
  ``Timer(t, f)``, ``pool.submit(f)``, ``pool.map(f, ...)``, ``start_new_thread(f, ...)``),
  as a name, ``self.method``/``obj.method``/``Class.method``, or a lambda's calls; and the
  ``run`` method of ``threading.Thread`` subclasses.
- ``reached_by_threads``: those and every function of the module they call.

Whether a closure leaves its function is ``ftmigrate.closures``' question.
"""

from __future__ import annotations

import libcst as cst

from ftmigrate.analysis import (
    FileContext,
    _resolve_call,
    called_functions,
    handed_to_threads,
    is_thread_subclass,
    iter_function_nodes,
)


def _function_named(ctx: FileContext, call: cst.Call, name: str) -> cst.FunctionDef | None:
    """The function ``name`` refers to at ``call``: defined in an enclosing function, else
    at module level."""
    for scope in ctx.ancestors(call):
        if isinstance(scope, cst.FunctionDef):
            for node in iter_function_nodes(scope):
                if isinstance(node, cst.FunctionDef) and node is not scope and node.name.value == name:
                    return node
    return next((s for s in ctx.module.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def thread_targets(ctx: FileContext) -> list[cst.FunctionDef]:
    """Functions of the module that a thread or an executor task starts in."""
    found: list[cst.FunctionDef] = []

    def add(func: cst.FunctionDef | None) -> None:
        if func is not None and all(func is not f for f in found):
            found.append(func)

    for call, expr, _pool in handed_to_threads(ctx):
        caller = ctx.enclosing_function(call)
        if isinstance(expr, cst.Name):
            add(_function_named(ctx, call, expr.value))
        elif isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            add(_resolve_call(ctx, cst.Call(func=expr), caller) or _method_of_instance(ctx, expr))
        elif isinstance(expr, cst.Lambda):
            for callee in called_functions(ctx, [expr.body], caller):
                add(callee)
    for cls in ctx.find(cst.ClassDef):
        if is_thread_subclass(ctx, cls) and isinstance(cls.body, cst.IndentedBlock):
            add(next((s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "run"), None))
    return found


def _method_of_instance(ctx: FileContext, expr: cst.Attribute) -> cst.FunctionDef | None:
    """``obj.method`` where ``obj = ClassName(...)`` somewhere in the module."""
    for target, value in ctx.assignments:
        if (
            isinstance(target, cst.Name)
            and target.value == expr.value.value
            and isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
        ):
            method = _resolve_call(ctx, cst.Call(func=cst.Attribute(value=value.func, attr=expr.attr)), None)
            if method is not None:
                return method
    return None


def reached_by_threads(ctx: FileContext) -> frozenset[cst.FunctionDef]:
    """Functions of the module that threads run: thread targets and executor tasks, and
    every function of the module they call, directly or through others."""
    cached = ctx.memo.get("reached_by_threads")
    if cached is None:
        reached: list[cst.FunctionDef] = []
        for entry in thread_targets(ctx):
            for func in (entry, *called_functions(ctx, [entry.body], entry)):
                if all(func is not f for f in reached):
                    reached.append(func)
        cached = ctx.memo["reached_by_threads"] = frozenset(reached)
    return cached
