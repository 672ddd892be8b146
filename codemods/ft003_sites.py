"""FT003's ``check()`` on the ``ast``: the lazy creations of shared state in one file.

``sites(rule, ctx)`` yields, per function, every ``if <X missing>: ... X = ...`` and
``X = X or make()`` where X is shared (a declared global, a class attribute, an attribute
of instances shared between threads), with its double-checked-locking Guard or the reason
there is none; the one-time guard of a ``__new__`` singleton's ``__init__``
(``ft003_singleton_init``); and zero-argument ``functools`` cache factories. The
``X = X or make()`` rewrite into ``if not X: X = make()`` is LibCST code (``_if_not``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from codemods import ft003_singleton_init as singleton_init
from codemods.ft003_publication import publication
from codemods.ft003_shapes import (
    Key,
    alone_on_line,
    assignments_in,
    checked_key,
    indented,
    or_key,
    spelled,
    stored_when_missing,
)
from ftmigrate.analysis import (
    FUNCTIONS,
    FileContext,
    calls_unknown_code,
    iter_function_nodes,
    top_level_bindings,
)
from ftmigrate.fixes import MODULE, Domain, Guard, Rewrite
from ftmigrate.sharing import instance_lock_attributes, shared_class_reason

if TYPE_CHECKING:
    from ftmigrate.rules import Rule, Site

Function = ast.FunctionDef | ast.AsyncFunctionDef
_CLASS_CREATION_HOOKS = frozenset({"__init_subclass__", "__set_name__"})


@dataclass(frozen=True)
class _State:
    """What a lazily created ``X`` is, and where a lock for it lives."""

    key: Key
    domain: Domain
    receiver: str | None
    cls: ast.ClassDef | None = None
    shared_reason: str | None = None  # instance state: why the instances are shared

    @property
    def name(self) -> str:
        return self.key[1]

    @property
    def spelled(self) -> str:
        return spelled(self.key)


class _Facts:
    """Per-file facts the rule asks for at every candidate, computed once each."""

    def __init__(self, ctx: FileContext, functions: list[Function]) -> None:
        self.ctx = ctx
        self.functions: dict[str, list[Function]] = {}
        for func in functions:
            self.functions.setdefault(func.name, []).append(func)
        self._globals: dict[int, set[str]] = {}
        self._shared: dict[int, str | None] = {}

    def globals_of(self, func: Function) -> set[str]:
        if id(func) not in self._globals:
            self._globals[id(func)] = self.ctx.declared(func, ast.Global)
        return self._globals[id(func)]

    def shared_reason(self, cls: ast.ClassDef) -> str | None:
        if id(cls) not in self._shared:
            self._shared[id(cls)] = shared_class_reason(self.ctx, cls)
        return self._shared[id(cls)]


@dataclass
class _Fix:
    """A rule's verdict on one finding: a guard, or why there is none."""

    guard: Guard | None = None
    reason: str | None = None


def sites(rule: Rule, ctx: FileContext) -> Iterator[Site]:
    cachers = _functools_cachers(ctx)
    functions = ctx.find(FUNCTIONS)
    facts = _Facts(ctx, functions)
    for func in functions:
        yield from _sites_in(rule, facts, func)
        site = _cached_singleton(rule, ctx, func, cachers)
        if site is not None:
            yield site


def _sites_in(rule: Rule, facts: _Facts, func: Function) -> Iterator[Site]:
    ctx = facts.ctx
    for node in iter_function_nodes(func):
        site = state = None
        if isinstance(node, ast.If):
            state = _state(facts, func, checked_key(node.test))
            # Created, not updated: `if not self.buf: self.buf += c` is no lazy creation.
            if state is not None and any(isinstance(a, (ast.Assign, ast.AnnAssign)) for a in assignments_in(node.body, state.key)):
                site = _if_site(rule, facts, func, node, state)
        elif type(node) is ast.Assign:
            key = or_key(node)
            state = _state(facts, func, key) if key is not None else None
            if state is not None:
                site = _or_site(rule, ctx, func, node, state)
        if site is not None:
            yield site
        if site is not None and isinstance(node, ast.If) and func.name == "__new__" and state.domain.kind == "class":
            found = singleton_init.init_guard_fix(ctx, state.cls, state.name, state.domain)
            if found is not None:
                stmt, guard = found
                if site.fix is not None:  # one fix: the singleton and its initialisation
                    site.fix.together.append(guard)
                    guard.together.append(site.fix)
                yield rule.site(stmt, singleton_init.message(state.cls, ctx, stmt), fix=guard, guarded_by=ctx.guard_of(stmt))


def _state(facts: _Facts, func: Function, key: Key | None) -> _State | None:
    """Which shared state ``key`` names inside ``func``, or None if it is not shared."""
    if key is None:
        return None
    ctx = facts.ctx
    receiver, name = key
    if receiver is None:
        return _State(key, MODULE, None) if name in facts.globals_of(func) else None
    cls, kind = ctx.method_class(func), ctx.method_kind(func)
    if func.name in _CLASS_CREATION_HOOKS and cls is not None:
        return None  # they run once, while the class statement executes
    if receiver == ctx.first_param(func) and kind == "class":
        return _State(key, Domain("class", cls), receiver, cls)
    aliases = ctx.class_aliases(func)
    if receiver in aliases:  # `cls = self.__class__; cls.x`: the lock is `self.__class__._x_lock`
        return _State(key, Domain("class", cls), aliases[receiver], cls)
    if receiver == ctx.first_param(func) and kind == "instance":
        # __init__ and __setstate__ build an object no other thread can see yet.
        reason = facts.shared_reason(cls) if func.name not in ("__init__", "__setstate__") else None
        return _State(key, Domain("instance", cls), receiver, cls, reason) if reason else None
    named = next((s for s in ctx.tree.body if isinstance(s, ast.ClassDef) and s.name == receiver), None)
    args = func.args
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    if named is not None and receiver not in ctx.local_bindings(func) | params:
        return _State(key, Domain("class", named), receiver, named)
    return None


def _message(state: _State, what: str, values: list[ast.expr | None]) -> str:
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
        f"`{state.spelled}` is {what} without a lock, and `{state.cls.name}` is shared "
        f"between threads ({state.shared_reason}): threads racing on first use each create one"
    )


def _if_site(rule: Rule, facts: _Facts, func: Function, stmt: ast.If, state: _State) -> Site | None:
    """``if <X missing>: ... X = ...``: double-check the ``if`` itself."""
    ctx = facts.ctx
    guarded_by = ctx.guard_of(stmt)
    assignments = assignments_in(stmt.body, state.key)
    if guarded_by is None and any(ctx.guard_of(a) is not None for a in assignments):
        return None  # the outer check of code that already locks the creation
    if guarded_by is not None:  # already locked: the guard only tells the planner which lock
        fix = _guard(func, stmt, state, False, None)
    else:
        reason = _lock_problem(ctx, state)
        if reason is None and ctx.is_elif(stmt):
            reason = "the check is an `elif`; double-checked locking needs an `if` of its own"
        published = publication(ctx, stmt, state.key, facts.functions) if reason is None else None
        reason = reason or published.reason
        reentrant = calls_unknown_code(stmt.body)
        local = (state.spelled, published.local) if published and published.local else None
        fix = _Fix(reason=reason) if reason else _guard(func, stmt, state, reentrant, published.replacement, local)
    values = [a.value for a in assignments if isinstance(a, (ast.Assign, ast.AnnAssign))]
    message = _message(state, "created lazily", values)
    return rule.site(stmt, message, domain=state.domain, fix=fix.guard, guarded_by=guarded_by, unfixable_reason=fix.reason)


def _or_site(rule: Rule, ctx: FileContext, func: Function, assign: ast.Assign, state: _State) -> Site:
    """``X = X or make()``: the same as ``if not X: X = make()`` when storing ``X`` back
    to itself changes nothing, so that ``if`` is what gets double-checked."""
    guarded_by = ctx.guard_of(assign)
    reason = None
    if state.receiver is not None and not _own_class_attribute(ctx, state):
        reason = (
            f"`{state.spelled} = {state.spelled} or ...` also stores the old value back, which for an "
            "attribute can copy an inherited class attribute or run a property setter; rewrite it as "
            f"`if not {state.spelled}: ...` by hand, then apply again"
        )
    elif not alone_on_line(ctx, assign):
        reason = "the assignment shares its line with other statements"
    elif guarded_by is None:
        reason = _lock_problem(ctx, state)
    fix = _Fix(reason=reason) if reason is not None else _guard(func, assign, state, calls_unknown_code(assign.value), _if_not)
    message = _message(state, "created lazily (`X = X or make()`)", [stored_when_missing(assign.value)])
    return rule.site(assign, message, domain=state.domain, fix=fix.guard, guarded_by=guarded_by, unfixable_reason=fix.reason)


def _own_class_attribute(ctx: FileContext, state: _State) -> bool:
    """``Registry._instance`` where ``_instance`` is bound in ``Registry``'s own body:
    storing its value back to the same class attribute changes nothing."""
    if state.domain.kind != "class" or state.receiver != state.cls.name:
        return False
    body = state.cls.body if indented(ctx, state.cls.body) else ()
    return any(state.name in top_level_bindings(s) for s in body)


# --- fixing ---------------------------------------------------------------------------
def _lock_problem(ctx: FileContext, state: _State) -> str | None:
    """Why no lock can guard ``state``: an instance attribute of a class whose instances
    have no thread lock (``instance_lock_attributes``; a class-level lock, such as one
    ``apply`` added, does not count, so ``apply`` never fixes what ``scan`` refused).
    Which lock guards the fix is the planner's call."""
    if state.domain.kind != "instance" or instance_lock_attributes(ctx, state.cls):
        return None
    return (
        f"`{state.cls.name}` has no lock to guard `{state.spelled}` with; add one in "
        "`__init__` (`self._lock = threading.Lock()`) and check again under it"
    )


def _guard(
    func: Function, stmt: ast.stmt, state: _State, reentrant: bool, replacement: Rewrite | None, local: tuple[str, str] | None = None
) -> _Fix:
    """Double-checked locking of ``stmt``; ``local``: (the state's code, the local that
    ``replacement`` builds the object in)."""
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
        local=local,
    )
    return _Fix(guard=guard)


def _if_not(line: cst.SimpleStatementLine) -> cst.If:
    """``X = X or a or b`` (the LibCST line) -> ``if not X: X = a or b``."""
    assign = line.body[0]
    test = cst.UnaryOperation(operator=cst.Not(), expression=assign.targets[0].target.deep_clone())
    inner = line.with_changes(body=[assign.with_changes(value=_without_leftmost(assign.value))], leading_lines=())
    return cst.If(test=test, body=cst.IndentedBlock(body=[inner]))


def _without_leftmost(expr: cst.BooleanOperation) -> cst.BaseExpression:
    """``X or a or b`` -> ``a or b``: what ``X = X or a or b`` stores when ``X`` is falsy."""
    if not isinstance(expr.left, cst.BooleanOperation) or not isinstance(expr.left.operator, cst.Or):
        return expr.right
    return expr.with_changes(left=_without_leftmost(expr.left))


# --- lru_cache ------------------------------------------------------------------------
def _cached_singleton(rule: Rule, ctx: FileContext, func: Function, cachers: dict[str, str]) -> Site | None:
    """``@lru_cache`` on a function without parameters: a singleton factory. Reported at
    the decorator (from its ``@``, as LibCST's ``Decorator``)."""
    args = func.args
    if args.args or args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg:
        return None
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        shown = ctx.code(target)
        if shown in cachers:
            return rule.site(
                decorator,
                f"`{func.name}()` is a zero-argument `@{shown}` factory used as a singleton: threads that "
                "miss the cache together each call it and get different objects",
                unfixable_reason=f"`{cachers[shown]}` cannot be made to call `{func.name}()` only once; "
                "create the object lazily in a global under double-checked locking instead",
                domain=MODULE,
            )
    return None


def _constructs(state: _State, value: ast.expr | None) -> bool:
    """``cls()``, ``Registry(...)``, ``super().__new__(cls)``: an instance of the class."""
    if not isinstance(value, ast.Call):
        return False
    if isinstance(value.func, ast.Name):
        return value.func.id in (state.receiver, state.cls.name)
    return isinstance(value.func, ast.Attribute) and value.func.attr == "__new__"


def _functools_cachers(ctx: FileContext) -> dict[str, str]:
    """How this module spells ``functools.lru_cache``/``functools.cache``: spelling -> name."""
    found: dict[str, str] = {}
    for stmt in ctx.tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name == "functools":
                    local = alias.asname or "functools"
                    found.update({f"{local}.{n}": f"functools.{n}" for n in ("lru_cache", "cache")})
        elif isinstance(stmt, ast.ImportFrom) and stmt.module == "functools" and not stmt.level:
            for alias in stmt.names:
                if alias.name in ("lru_cache", "cache"):
                    found[alias.asname or alias.name] = f"functools.{alias.name}"
    return found
