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
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import (
    FileContext,
    _called_name,
    handed_to_threads,
    iter_function_nodes,
    own_bindings,
)
from ftmigrate.treewalk import walk

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
# Decorators that leave a nested function where it is.
_LOCAL_DECORATORS = m.Decorator(
    decorator=m.Name("contextmanager") | m.Attribute(attr=m.Name("contextmanager"))
    | m.Call(func=m.Name("wraps") | m.Attribute(attr=m.Name("wraps")))
)
_LITERAL_PARTS = (cst.DictElement, cst.Dict, cst.Element, cst.StarredElement, cst.List, cst.Tuple, cst.Set)
_RANK = {None: 0, "passed": 1, "leaves": 2, "thread": 3}
_MAX_DEPTH = 4  # how many aliases deep a closure is followed


def closure_escapes(ctx: FileContext, owner: cst.FunctionDef) -> str | None:
    """None (every nested function of ``owner`` is only called in place), ``"passed"``,
    ``"leaves"`` or ``"thread"``: see the module docstring."""
    inner = [n for n in iter_function_nodes(owner) if isinstance(n, cst.FunctionDef) and n is not owner]
    if not inner:
        return None
    if any(not m.matches(d, _LOCAL_DECORATORS) for f in inner for d in f.decorators):
        return "leaves"
    nodes = walk(owner.body)
    local = own_bindings(owner, params=False) - ctx.declared(owner, cst.Global) - ctx.declared(owner, cst.Nonlocal)
    tracker = _Uses(ctx, nodes, local)
    return tracker.of_names({f.name.value for f in inner}, depth=0)


class _Uses:
    """Where the uses of names (and of what holds them) lead, worst first."""

    def __init__(self, ctx: FileContext, nodes: list[cst.CSTNode], local: set[str]) -> None:
        self.ctx = ctx
        self.nodes = nodes
        self.local = local
        self.handed = {id(expr) for _call, expr, _pool in handed_to_threads(ctx)}
        self.seen: set[str] = set()

    def of_names(self, names: set[str], depth: int) -> str | None:
        names = names - self.seen
        self.seen |= names
        worst = None
        for node in self.nodes:
            if isinstance(node, cst.Name) and node.value in names:
                worst = _worse(worst, self.of_use(node, depth))
                if worst == "thread":
                    break
        return worst

    def of_use(self, node: cst.CSTNode, depth: int) -> str | None:
        """Where one use of a closure (or of a local holding it) leads."""
        ctx = self.ctx
        parent = ctx.parent(node)
        if isinstance(parent, _NOT_A_REFERENCE) or _names_something_else(parent, node):
            return None  # a definition, a declaration, a parameter, `obj.visit`, `f(visit=...)`
        if id(node) in self.handed:
            return "thread"
        if isinstance(parent, cst.Call) and parent.func is node:
            if isinstance(node, cst.Attribute):  # `handlers.get(key)`, `visit.__get__(obj)`
                return self.of_use(parent, depth) if depth < _MAX_DEPTH else "leaves"
            lambda_ = next((a for a in ctx.ancestors(node) if isinstance(a, cst.Lambda)), None)
            return None if lambda_ is None else self.of_use(lambda_, depth)  # called in place
        if _is_target(parent, node):
            return None  # rebound or deleted: `clone = None`
        while isinstance(parent, _LITERAL_PARTS):
            node, parent = parent, ctx.parent(parent)
        if isinstance(parent, cst.Arg) and isinstance(ctx.parent(parent), cst.Call):
            return self.of_argument(ctx.parent(parent), depth)
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
            return self.of_assignment(parent, depth)
        if isinstance(parent, (cst.Subscript, cst.Attribute)) and parent.value is node:
            # an entry read from a local container (`visitors["column"]`), or an attribute
            # of the function (`visit.__name__`): where that value goes
            return self.of_use(parent, depth) if depth < _MAX_DEPTH else "leaves"
        if isinstance(parent, cst.For) and parent.iter is node:  # `for handler in handlers:`
            return self.of_holder(parent.target, depth)
        if isinstance(parent, cst.Expr):
            return None  # a value computed and dropped
        return "leaves"  # returned, yielded, a default value, anything else

    def of_argument(self, call: cst.Call, depth: int) -> str:
        if isinstance(call.func, cst.Call):
            return "leaves"  # `app.route("/")(view)`: a decorator applied by hand
        name = _called_name(call)
        if name in _THREAD_CALLS:
            return "thread"
        if name in _KEEPING_CALLS:
            return "leaves"
        if name in _STORING_METHODS and isinstance(call.func, cst.Attribute):
            return self.of_holder(call.func.value, depth)
        if name in _WRAPPING_CALLS:
            return (self.of_use(call, depth + 1) or "passed") if depth < _MAX_DEPTH else "leaves"
        return "passed"

    def of_assignment(self, assign: cst.Assign | cst.AnnAssign, depth: int) -> str | None:
        targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
        worst = None
        for target in targets:
            if isinstance(target, cst.Subscript):
                target = target.value  # `table[key] = visit`: the container holds it
            worst = _worse(worst, self.of_holder(target, depth))
        return worst

    def of_holder(self, holder: cst.BaseExpression, depth: int) -> str | None:
        """A closure put in ``holder`` (a name, or a container it was stored in): a local of
        ``owner`` is followed; an attribute, a parameter or a global keeps it."""
        if not isinstance(holder, cst.Name) or holder.value not in self.local or depth >= _MAX_DEPTH:
            return "leaves"
        return self.of_names({holder.value}, depth + 1) or "passed"


_NOT_A_REFERENCE = (cst.FunctionDef, cst.ClassDef, cst.NameItem, cst.Param, cst.ImportAlias, cst.AsName)


def _names_something_else(parent: cst.CSTNode | None, node: cst.CSTNode) -> bool:
    """``obj.visit`` (an attribute name) or ``f(visit=...)`` (a keyword)."""
    return (isinstance(parent, cst.Attribute) and parent.attr is node) or (
        isinstance(parent, cst.Arg) and parent.keyword is node
    )


def _is_target(parent: cst.CSTNode | None, node: cst.CSTNode) -> bool:
    """``node`` is (re)bound or deleted here, not read."""
    if isinstance(parent, (cst.AssignTarget, cst.Del, cst.AsName)):
        return True
    bound = (cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr)
    return isinstance(parent, bound) and parent.target is node


def _worse(a: str | None, b: str | None) -> str | None:
    return a if _RANK[a] >= _RANK[b] else b
