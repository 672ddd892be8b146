"""Whether a function defined inside another one leaves it, so that other threads may call it.

``closure_escapes(ctx, owner)`` follows every use of the names of ``owner``'s nested
functions, in ``owner`` and in the functions nested in it, and of the local names and local
containers they are put in (``visitors = {"column": visit}``, ``table[key] = visit``,
``partial(visit, 1)``):

- called in place (``visit(x)``), rebound (``clone = None``, ``write: Callable = ...``) or
  deleted: the closure stays with the call of ``owner`` that made it;
- passed to a call that runs it in a thread (``Thread(target=f)``, ``Timer``, executor
  ``submit``/``map``, ``asyncio.to_thread``, ``loop.run_in_executor``): ``"thread"``;
- returned or yielded, stored on an object, a parameter or a global (``self.cb = f``,
  ``registry.append(f)``), registered as a callback (``add_done_callback``, ``call_soon``,
  ``atexit.register``, ``signal.signal``...), decorated (but for ``@wraps(...)`` and
  ``@contextmanager``) or given to a decorator by hand (``app.route("/")(view)``), a
  default value, or any use not understood: ``"leaves"``;
- only passed to other calls (a ``key=`` or visitor function the callee runs during the
  call, as far as the module shows): ``"passed"``.

(The ``ast`` port of ``ftmigrate.closures``: same answers. ast has no node for a name that
is defined, declared or a parameter, so only the uses of a name are visited.)
"""

from __future__ import annotations

import ast

from ftmigrate.analysis import FUNCTIONS, FileContext, iter_function_nodes, own_bindings, walk
from ftmigrate.sharing import handed_to_threads

# Calls that run their callable argument in another thread.
_THREAD_CALLS = frozenset({"to_thread", "run_in_executor", "start_new_thread"})
# Calls that keep their callable argument for later (a callback registry, a long-lived
# container): the closure outlives the call.
_KEEPING_CALLS = frozenset({
    "add_done_callback", "call_soon", "call_soon_threadsafe", "call_later", "call_at", "add_callback",
    "add_timeout", "spawn_callback", "register", "signal", "finalize", "connect", "subscribe", "listen",
    "listens_for", "add_listener", "add_handler", "addHandler", "on", "once", "setattr", "Process",
    "run_coroutine_threadsafe", "ensure_future", "create_task",
})
# Container methods: keeping when the container is not a local of ``owner``.
_STORING_METHODS = frozenset({
    "append", "appendleft", "add", "extend", "insert", "put", "put_nowait", "setdefault", "update",
})
# Calls whose result is the callable itself or a wrapper of it: the result is followed.
_WRAPPING_CALLS = frozenset({"partial", "wraps", "update_wrapper", "MethodType"})
# A literal holding a value (LibCST's Element, DictElement, StarredElement and the literals).
_LITERAL_PARTS = (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Starred)
_RANK = {None: 0, "passed": 1, "leaves": 2, "thread": 3}
_MAX_DEPTH = 4  # how many aliases deep a closure is followed


def _called_name(call: ast.Call) -> str | None:
    """``f`` of ``f(...)`` or ``x.f(...)``."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _local_decorator(expr: ast.expr) -> bool:
    """``@contextmanager`` or ``@wraps(...)``: the function stays where it is."""
    if isinstance(expr, ast.Call):
        func = expr.func
        return (isinstance(func, ast.Name) and func.id == "wraps") or (isinstance(func, ast.Attribute) and func.attr == "wraps")
    return (isinstance(expr, ast.Name) and expr.id == "contextmanager") or (
        isinstance(expr, ast.Attribute) and expr.attr == "contextmanager"
    )


def closure_escapes(ctx: FileContext, owner: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """None (every nested function of ``owner`` is only called in place), ``"passed"``,
    ``"leaves"`` or ``"thread"``: see the module docstring."""
    cache = ctx.memo.get("closures.escapes")
    if cache is None:
        cache = ctx.memo["closures.escapes"] = {}
    if owner not in cache:
        cache[owner] = _closure_escapes(ctx, owner)
    return cache[owner]


def _closure_escapes(ctx: FileContext, owner: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    inner = [n for n in iter_function_nodes(owner) if isinstance(n, FUNCTIONS) and n is not owner]
    if not inner:
        return None
    if any(not _local_decorator(d) for f in inner for d in f.decorator_list):
        return "leaves"
    names = [n for n in walk(owner.body) if isinstance(n, ast.Name)]
    local = own_bindings(owner, params=False) - ctx.declared(owner, ast.Global) - ctx.declared(owner, ast.Nonlocal)
    tracker = _Uses(ctx, names, local)
    return tracker.of_names({f.name for f in inner}, depth=0)


class _Uses:
    """Where the uses of names (and of what holds them) lead, worst first."""

    def __init__(self, ctx: FileContext, names: list[ast.Name], local: set[str]) -> None:
        self.ctx = ctx
        self.names = names
        self.local = local
        self.handed = {id(expr) for _call, expr, _pool in handed_to_threads(ctx)}
        self.seen: set[str] = set()

    def of_names(self, names: set[str], depth: int) -> str | None:
        names = names - self.seen
        self.seen |= names
        worst = None
        for node in self.names:
            if node.id in names:
                worst = _worse(worst, self.of_use(node, depth))
                if worst == "thread":
                    break
        return worst

    def of_use(self, node: ast.AST, depth: int) -> str | None:
        """Where one use of a closure (or of a local holding it) leads."""
        ctx = self.ctx
        parent = ctx.parent(node)
        if isinstance(parent, ast.arguments):
            return None  # a default value (LibCST: a Param's child, like its name)
        if isinstance(parent, (*FUNCTIONS, ast.ClassDef, ast.arg)):
            return "leaves"  # a decorator, an annotation, a base class
        if id(node) in self.handed:
            return "thread"
        if isinstance(parent, ast.Call) and parent.func is node:
            if isinstance(node, ast.Attribute):  # `handlers.get(key)`, `visit.__get__(obj)`
                return self.of_use(parent, depth) if depth < _MAX_DEPTH else "leaves"
            lambda_ = next((a for a in ctx.ancestors(node) if isinstance(a, ast.Lambda)), None)
            return None if lambda_ is None else self.of_use(lambda_, depth)  # called in place
        if _is_target(parent, node):
            return None  # rebound or deleted: `clone = None`
        while isinstance(parent, _LITERAL_PARTS) and not _unpacked_into_dict(parent, node):
            node, parent = parent, ctx.parent(parent)
        if isinstance(parent, ast.keyword) and isinstance(ctx.parent(parent), ast.Call):
            return self.of_argument(ctx.parent(parent), depth)
        if isinstance(parent, ast.Call) and parent.func is not node:
            return self.of_argument(parent, depth)
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
            return self.of_assignment(parent, depth)
        if isinstance(parent, (ast.Subscript, ast.Attribute)) and parent.value is node:
            # an entry read from a local container (`visitors["column"]`), or an attribute
            # of the function (`visit.__name__`): where that value goes
            return self.of_use(parent, depth) if depth < _MAX_DEPTH else "leaves"
        if isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is node:  # `for handler in handlers:`
            return self.of_holder(parent.target, depth)
        if isinstance(parent, ast.Expr):
            return None  # a value computed and dropped
        return "leaves"  # returned, yielded, a default value, anything else

    def of_argument(self, call: ast.Call, depth: int) -> str:
        if isinstance(call.func, ast.Call):
            return "leaves"  # `app.route("/")(view)`: a decorator applied by hand
        name = _called_name(call)
        if name in _THREAD_CALLS:
            return "thread"
        if name in _KEEPING_CALLS:
            return "leaves"
        if name in _STORING_METHODS and isinstance(call.func, ast.Attribute):
            return self.of_holder(call.func.value, depth)
        if name in _WRAPPING_CALLS:
            return (self.of_use(call, depth + 1) or "passed") if depth < _MAX_DEPTH else "leaves"
        return "passed"

    def of_assignment(self, assign: ast.Assign | ast.AnnAssign, depth: int) -> str | None:
        targets = assign.targets if isinstance(assign, ast.Assign) else [assign.target]
        worst = None
        for target in targets:
            if isinstance(target, ast.Subscript):
                target = target.value  # `table[key] = visit`: the container holds it
            worst = _worse(worst, self.of_holder(target, depth))
        return worst

    def of_holder(self, holder: ast.expr, depth: int) -> str | None:
        """A closure put in ``holder`` (a name, or a container it was stored in): a local of
        ``owner`` is followed; an attribute, a parameter or a global keeps it."""
        if not isinstance(holder, ast.Name) or holder.id not in self.local or depth >= _MAX_DEPTH:
            return "leaves"
        return self.of_names({holder.id}, depth + 1) or "passed"


def _unpacked_into_dict(parent: ast.AST, node: ast.AST) -> bool:
    """``{**visitors}``: LibCST's StarredDictElement, which is no literal part."""
    return isinstance(parent, ast.Dict) and any(k is None and v is node for k, v in zip(parent.keys, parent.values))


def _is_target(parent: ast.AST | None, node: ast.AST) -> bool:
    """``node`` is (re)bound or deleted here, not read (only as the whole target, as LibCST
    tells it: ``del a, visit`` is a tuple there)."""
    if isinstance(parent, ast.Assign):
        return any(t is node for t in parent.targets)
    if isinstance(parent, ast.Delete):
        return len(parent.targets) == 1 and parent.targets[0] is node
    if isinstance(parent, ast.withitem):
        return parent.optional_vars is node
    bound = (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension, ast.NamedExpr)
    return isinstance(parent, bound) and parent.target is node


def _worse(a: str | None, b: str | None) -> str | None:
    return a if _RANK[a] >= _RANK[b] else b
