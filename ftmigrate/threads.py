"""Which code of a module threads run.

The module-level part of the thread evidence that ``ftmigrate.confidence`` grades
findings by (the project-wide index that follows calls across modules builds on these answers):

- ``thread_targets``: functions handed to threads or executors (``Thread(target=f)``,
  ``Timer(t, f)``, ``pool.submit(f)``, ``pool.map(f, ...)``, ``start_new_thread(f, ...)``),
  as a name, ``self.method``/``obj.method``/``Class.method``, or a lambda's calls; and the
  ``run`` method of ``threading.Thread`` subclasses.
- ``reached_by_threads``: those and every function of the module they call.

Whether a closure leaves its function is ``ftmigrate.closures``' question.
"""

from __future__ import annotations

import ast

from ftmigrate.analysis import FUNCTIONS, FileContext, Function, iter_function_nodes
from ftmigrate.sharing import (
    _resolve_call,
    called_functions,
    handed_to_threads,
    is_thread_subclass,
)


def _function_named(ctx: FileContext, call: ast.Call, name: str) -> Function | None:
    """The function ``name`` refers to at ``call``: defined in an enclosing function, else
    at module level."""
    for scope in ctx.ancestors(call):
        if isinstance(scope, FUNCTIONS):
            for node in iter_function_nodes(scope):
                if isinstance(node, FUNCTIONS) and node is not scope and node.name == name:
                    return node
    return next((s for s in ctx.tree.body if isinstance(s, FUNCTIONS) and s.name == name), None)


def _call_of(func: ast.expr) -> ast.Call:
    """A call of ``func`` with no arguments, to ask ``_resolve_call`` what ``func`` runs."""
    return ast.Call(func=func, args=[], keywords=[])


def thread_targets(ctx: FileContext) -> list[Function]:
    """Functions of the module that a thread or an executor task starts in."""
    found: list[Function] = []

    def add(func: Function | None) -> None:
        if func is not None and all(func is not f for f in found):
            found.append(func)

    for call, expr, _pool in handed_to_threads(ctx):
        caller = ctx.enclosing_function(call)
        if isinstance(expr, ast.Name):
            add(_function_named(ctx, call, expr.id))
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            add(_resolve_call(ctx, _call_of(expr), caller) or _method_of_instance(ctx, expr))
        elif isinstance(expr, ast.Lambda):
            for callee in called_functions(ctx, [expr.body], caller):
                add(callee)
    for cls in ctx.find(ast.ClassDef):
        if is_thread_subclass(ctx, cls):
            add(next((s for s in cls.body if isinstance(s, FUNCTIONS) and s.name == "run"), None))
    return found


def _method_of_instance(ctx: FileContext, expr: ast.Attribute) -> Function | None:
    """``obj.method`` where ``obj = ClassName(...)`` somewhere in the module."""
    for target, value in ctx.assignments:
        if (
            isinstance(target, ast.Name)
            and target.id == expr.value.id
            and isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
        ):
            method = _resolve_call(ctx, _call_of(ast.Attribute(value=value.func, attr=expr.attr, ctx=ast.Load())), None)
            if method is not None:
                return method
    return None


def reached_by_threads(ctx: FileContext) -> frozenset[Function]:
    """Functions of the module that threads run: thread targets and executor tasks, and
    every function of the module they call, directly or through others."""
    cached = ctx.memo.get("reached_by_threads")
    if cached is None:
        reached: list[Function] = []
        for entry in thread_targets(ctx):
            for func in (entry, *called_functions(ctx, entry.body, entry)):
                if all(func is not f for f in reached):
                    reached.append(func)
        cached = ctx.memo["reached_by_threads"] = frozenset(reached)
    return cached
