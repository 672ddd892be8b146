"""Which existing objects are *proven* ``threading`` locks, and where they exist.

The one place that answers "may this existing object guard a fix?" (the lock planner
asks it) and "do this class's instances carry a thread lock?" (shared-state evidence for
the rules). Recognising code that is *already* under some lock stays name-based
(``FileContext.is_lock_expr``, documented in ``ftmigrate.heldlocks``): missing a finding
there costs a report, never working code. Guarding a *fix* with an object that is not
a thread lock breaks the program, so here nothing is taken on its name.

An existing lock expression is proven where it is used (``proven_lock``) when:
- it is a module-level name (``_lock``): every binding of it in the module's global scope
  is a call of a ``threading`` lock factory (``threading.Lock/RLock/Condition/Semaphore/
  BoundedSemaphore()``, through ``import threading as t`` or ``from threading import
  Lock as L`` too) and one of them is a statement of the module's own body;
- it is a closure's name: the same, in the enclosing function that binds it;
- it is a class attribute reached through the class (``Owner._lock``) or a method's
  ``self``/``cls``: bound by a statement of the class body to such a call, and every
  assignment of that attribute name anywhere in the module is such a call;
- it is an instance attribute (``self._lock``) used in an instance method: ``__init__``
  binds it by a statement of its own body, every assignment of that attribute name in
  the module is a lock factory call, and the method does not run on an object that may
  have bypassed ``__init__``: not ``__new__``, ``__setstate__``, ``__reduce__``,
  ``__reduce_ex__``, ``__copy__``, ``__deepcopy__``, ``__getnewargs(_ex)__``, nor a
  class or static method (``cls.__new__`` factories), nor ``__init__`` itself before the
  assignment; a class with a ``__setstate__`` that never binds the attribute restores
  instances without it, so its instance lock is not proven anywhere.
Never proven: ``asyncio``/``trio``/``anyio``/``multiprocessing.Manager()`` objects and
calls of any other factory (a project's own ``RLock``, a test helper's counting lock),
``defaultdict``s of locks, locks passed in as parameters, attributes of other objects
(``self.pool._lock``), and a function's own local lock (a new one on every call).

Whether a proven lock may guard a given piece of state is the planner's second
condition: it must already guard that state elsewhere (``ftmigrate.locking``).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ftmigrate.bindings import (
    FUNCTIONS,
    THREAD_MODULES,
    Function,
    _assignments,
    dotted,
    identifiers_of,
    iter_function_nodes,
    scope_bindings,
    walk,
)
from ftmigrate.fixes import LockRef
from ftmigrate.spans import COMPOUND_STATEMENTS, in_indented_block

if TYPE_CHECKING:
    from ftmigrate.analysis import FileContext

# Methods that run on an instance ``__init__`` may not have initialised.
BYPASS_INIT = frozenset(
    {"__new__", "__setstate__", "__reduce__", "__reduce_ex__", "__copy__", "__deepcopy__", "__getnewargs__", "__getnewargs_ex__"}
)


def proven_lock(ctx: FileContext, code: str, function: Function, at: ast.stmt) -> bool:
    """Whether ``code`` (``_lock``, ``self._lock``, ``Owner._lock``), written in
    ``function`` at statement ``at``, is an object the module proves to be a ``threading``
    lock that exists there (the rules are in this module's docstring)."""
    try:
        expr = ast.parse(code, mode="eval").body
    except (SyntaxError, ValueError):
        return False
    if creates(ctx, at, code):
        return False  # the code that would take the lock is the code that creates it
    if type(expr) is ast.Name:
        return _proven_name(ctx, expr.id, function)
    if type(expr) is ast.Attribute and type(expr.value) is ast.Name:
        return _proven_attribute(ctx, expr.value.id, expr.attr, function, at)
    return False


def creates(ctx: FileContext, node: ast.AST, code: str) -> bool:
    """``node`` assigns ``code`` (``self._lock = ...`` inside it)."""
    return any(
        ctx.code(target) == code
        for inner in ast.walk(node) if type(inner) in (ast.Assign, ast.AnnAssign)
        for target, _ in _assignments(inner)
    )


def _thread_lock_call(ctx: FileContext, expr: ast.expr) -> bool:
    """A call of a ``threading`` (or ``_thread``) lock factory; ``multiprocessing``'s are not thread primitives."""
    return ctx.lock_kind(expr, THREAD_MODULES) is not None


def _is_factory_binding(ctx: FileContext, node: ast.AST) -> bool:
    """``node`` (a bound name from ``scope_bindings``) is the target of ``= <lock factory>()``."""
    statement = ctx.parent(node)
    if type(statement) not in (ast.Assign, ast.AnnAssign):
        return False
    return any(target is node and _thread_lock_call(ctx, value) for target, value in _assignments(statement))


def _bound_in_body(ctx: FileContext, node: ast.AST, owner: ast.AST) -> bool:
    """``node`` is bound by a simple statement directly in ``owner``'s body (runs whenever
    the body does; an indented body, as LibCST saw it)."""
    stmt = ctx.statement_of(node)
    block, field, _ = ctx.block_of(stmt)
    return block is owner and field == "body" and not isinstance(stmt, COMPOUND_STATEMENTS) and in_indented_block(ctx, stmt)


def _proven_name(ctx: FileContext, name: str, function: Function) -> bool:
    if ctx.resolves_globally(function, name):
        bindings = ctx.global_bindings.get(name, [])
        owner = ctx.tree
    else:
        owner = next((a for a in ctx.ancestors(function) if isinstance(a, FUNCTIONS) and name in ctx.local_bindings(a)), None)
        if owner is None or name in ctx.local_bindings(function):
            return False  # a function's own lock is a new one on every call
        bindings = [node for bound, node in scope_bindings(owner.body, skip=owner) if bound == name]
    return (
        bool(bindings)
        and all(_is_factory_binding(ctx, node) for node in bindings)
        and any(_bound_in_body(ctx, node, owner) for node in bindings)
    )


def _class_named(ctx: FileContext, name: str) -> ast.ClassDef | None:
    return next((s for s in ctx.tree.body if type(s) is ast.ClassDef and s.name == name), None)


def _every_assignment_is_a_lock(ctx: FileContext, attr: str) -> bool:
    return all(
        _thread_lock_call(ctx, value)
        for target, value in ctx.assignments
        if type(target) is ast.Attribute and target.attr == attr
    )


def _class_body(ctx: FileContext, cls: ast.ClassDef) -> list[ast.stmt]:
    """The class's statements; none for a one-line ``class C: x = 1`` (as with LibCST)."""
    return cls.body if in_indented_block(ctx, cls.body[0]) else []


def _method(ctx: FileContext, cls: ast.ClassDef, name: str) -> Function | None:
    return next((s for s in _class_body(ctx, cls) if isinstance(s, FUNCTIONS) and s.name == name), None)


def _proven_attribute(ctx: FileContext, holder: str, attr: str, function: Function, at: ast.stmt) -> bool:
    own_receiver = ctx.method_class(function) is not None and holder == ctx.first_param(function)
    cls = ctx.method_class(function) if own_receiver else _class_named(ctx, holder)
    if cls is None or not _every_assignment_is_a_lock(ctx, attr):
        return False
    class_values = [
        value
        for stmt in _class_body(ctx, cls) if not isinstance(stmt, COMPOUND_STATEMENTS)
        for target, value in _assignments(stmt)
        if type(target) is ast.Name and target.id == attr
    ]
    if class_values:  # a class attribute: it exists on every instance, __init__ or not
        return all(_thread_lock_call(ctx, value) for value in class_values)
    if not own_receiver or ctx.method_kind(function) != "instance" or function.name in BYPASS_INIT:
        return False
    return _instance_lock_exists(ctx, cls, attr, function, at)


def _binds_self_attribute(ctx: FileContext, method: Function, attr: str) -> list[ast.stmt]:
    """Statements of ``method`` that assign ``<self>.attr``."""
    receiver = ctx.first_param(method)
    found = []
    for node in iter_function_nodes(method):
        for target, _ in _assignments(node):
            if type(target) is ast.Attribute and target.attr == attr and dotted(target.value) == receiver:
                found.append(node)
    return found


def _instance_lock_exists(ctx: FileContext, cls: ast.ClassDef, attr: str, function: Function, at: ast.stmt) -> bool:
    init = _method(ctx, cls, "__init__")
    if init is None:
        return False
    direct = [node for node in _binds_self_attribute(ctx, init, attr) if _bound_in_body(ctx, node, init)]
    if not direct:
        return False
    setstate = _method(ctx, cls, "__setstate__")
    if setstate is not None and not _binds_self_attribute(ctx, setstate, attr):
        return False
    if function is init:
        return at.lineno > direct[0].lineno
    return True


def state_guards(ctx: FileContext, kind: str, owner: ast.AST | None, state: str) -> list[LockRef]:
    """Locks (``with L:``, as ``is_lock_expr`` recognises them) around an access of the
    state anywhere in the module: ``state`` in a function where it means the global (kind
    "module"), ``<self>.state`` in an instance method of ``owner`` ("instance"),
    ``<cls>.state``/``Owner.state`` in ``owner``'s methods ("class"). Closure state: none
    (its uses are the rules' guarded sites). Proof is ``proven_lock``'s business."""
    found: list[LockRef] = []
    for function, locks, names, attributes in _locked_blocks(ctx):
        if kind == "module":
            hit = state in names and ctx.resolves_globally(function, state)
        elif kind in ("class", "instance") and ctx.method_class(function) is owner:
            receiver = ctx.first_param(function)
            holders = {receiver} if kind == "instance" and ctx.method_kind(function) == "instance" else set()
            if kind == "class":
                holders = {owner.name, receiver}
            hit = any((holder, state) in attributes for holder in holders)
        else:
            hit = False
        if hit:
            found += [LockRef(code, "with", function) for code in locks]
    return found


def _locked_blocks(ctx: FileContext) -> list[tuple[Function, list[str], set[str], set[tuple[str, str]]]]:
    """Per ``with <lock>:`` in a function: the function, the lock expressions, the names
    and the ``name.attribute`` pairs its body uses (computed once per file)."""
    blocks = ctx.memo.get("threadlocks.blocks")
    if blocks is None:
        blocks = []
        for with_ in ctx.find((ast.With, ast.AsyncWith)):
            function = ctx.enclosing_function(with_)
            locks = [ctx.code(item.context_expr) for item in with_.items if ctx.is_lock_expr(item.context_expr)]
            if function is None or not locks:
                continue
            nodes = walk(with_.body)
            names = {name for n in nodes for name in identifiers_of(n)}
            attributes = {(n.value.id, n.attr) for n in nodes if type(n) is ast.Attribute and type(n.value) is ast.Name}
            blocks.append((function, locks, names, attributes))
        ctx.memo["threadlocks.blocks"] = blocks
    return blocks
