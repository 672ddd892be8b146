"""The one place that inserts locks. Rules describe *what* must run under a lock; this
module decides *which* lock and writes the code.

Planning, for all fixes of a file at once (so rules share locks):
- State is identified by a key: (domain, state name). A domain is where a lock for that
  state can live: the module (globals, module containers, module attributes), a class
  (class attributes), the instances of a class (``self.x``), or a closure (``nonlocal``).
- Keys of one domain touched by the same function are merged (union-find) and get one
  lock (named after them: ``_hits_misses_lock``), so a function never takes two inserted
  locks and every site of a key, in every function, uses the same lock. Guards of different domains are never nested.
- A merged group reuses an existing lock only when it already guards the same state
  elsewhere (a site the rules found locked, or any access under ``with L:``) and it is a
  proven ``threading`` lock at every site of the fix (``ftmigrate.threadlocks``). When the
  state is locked elsewhere by anything else, the fix is refused (a new lock would not
  exclude that code). Otherwise a new lock named after the state (``_counter_lock``),
  placed right after the state's own assignment in the module, the closure's function or
  the class body (never on instances: they stay picklable and copyable), named so that
  it collides with nothing.
- The lock is ``threading.RLock`` when a guarded statement calls code we cannot see (a
  re-entrant call from the same thread then still works), else ``threading.Lock``.
- A statement that awaits or yields is never put under a lock (it would be held while
  suspended), nor one in an ``async def`` (it would block the event loop): the fix is
  refused and the finding stays.
- An existing non-reentrant lock is not reused for a function that some caller in the
  module calls while already holding that lock (it would deadlock): the fix is refused.
- ``double_checked`` writes ``if T: with L: if T: body``; an ``if`` with an ``else``/``elif``
  is refused (the else branch would run only under the lock, or not at all).

``apply_fixes`` returns the new module and an ``Inserted`` record that ``verify`` uses
to check that nothing but lock code changed.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import libcst as cst

from ftmigrate.analysis import NESTED_SCOPES, FileContext, LockRef, called_functions, dotted, suspends, top_level_bindings
from ftmigrate.fixsafety import code_hazard, combined, lock_hazard, state_code
from ftmigrate.imports import add_threading_import, is_docstring as _is_docstring
from ftmigrate.locknames import candidates, module_name
from ftmigrate.threadlocks import proven_lock, state_guards
from ftmigrate.treewalk import walk


@dataclass(frozen=True)
class Domain:
    """Where a lock for some state can live. ``owner``: ClassDef or FunctionDef (closure)."""

    kind: str  # "module" | "class" | "instance" | "closure"
    owner: cst.CSTNode | None = None

    def __post_init__(self) -> None:
        assert self.kind in ("module", "class", "instance", "closure"), self.kind


MODULE = Domain("module")


@dataclass(eq=False)
class Guard:
    """Run ``stmt`` (a statement of the original tree) under the lock for ``state``.

    ``receiver`` is how the statement names the object for class/instance state
    (``self``, ``cls``, ``Counter``); the lock is reached through it. ``double_checked``
    turns an ``if`` into check / lock / check again (lazy initialisation). ``replacement``
    is the statement to put under the lock instead of ``stmt`` (verified as a rewrite).
    """

    stmt: cst.CSTNode
    state: str
    domain: Domain
    function: cst.FunctionDef
    reentrant: bool = False
    receiver: str | None = None
    double_checked: bool = False
    replacement: cst.BaseStatement | None = None
    anchor: str | None = None  # name bound in the domain's body after which a new lock goes
    # Statements right after ``stmt`` that read the state and belong in the same critical
    # section (e.g. ``return count`` after ``count += 1``); wrapped, never reported.
    followers: tuple[cst.CSTNode, ...] = ()
    # Statements right before ``stmt`` in the same block that read the state the update
    # uses (``n = self.count`` before ``self.count = n + 1``): the critical section starts
    # at the first of them, so no other thread writes between the read and the write.
    leaders: tuple[cst.CSTNode, ...] = ()
    # Guards that only make sense applied with this one (a singleton's ``__new__`` and its
    # ``__init__`` guard): they are as safe as the least safe of them, and held back together.
    together: list = field(default_factory=list)

    @property
    def span(self) -> tuple[cst.CSTNode, ...]:
        """Every statement of the original tree the critical section holds, in order."""
        return (*self.leaders, self.stmt, *self.followers)


@dataclass(eq=False)
class Replace:
    """Replace ``stmt`` by ``new`` (an equivalent atomic form, e.g. ``d.pop(k, None)``)."""

    stmt: cst.CSTNode
    new: cst.BaseStatement


@dataclass
class Inserted:
    """What a rewrite added, for the verifier: everything else must be unchanged."""

    lock_names: set[str] = field(default_factory=set)
    lock_exprs: set[str] = field(default_factory=set)
    substitutions: list[tuple[str, str]] = field(default_factory=list)  # (code before, code after)


@dataclass
class Outcome:
    module: cst.Module
    inserted: Inserted
    applied: set[int]  # id() of fixes that were applied (or covered by an enclosing fix)
    refused: dict[int, str]  # id(fix) -> reason
    # id(fix) -> why the fix is unsafe (``ftmigrate.fixsafety``), for every unsafe fix that
    # was applied (with ``unsafe_fixes``) or held back (without; then it is in neither
    # ``applied`` nor ``refused``).
    unsafe: dict[int, str] = field(default_factory=dict)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


@dataclass
class _Lock:
    name: str | None  # new lock's name, None when reusing an existing one
    existing: str | None  # code of an existing lock expression, or its attribute name if ``attribute``
    kind: str = "Lock"
    attribute: bool = False  # an existing lock attribute of the class, reached through the receiver


def refusal(fix: Guard | Replace) -> str | None:
    """Why ``fix`` can never be applied (known before planning), else None."""
    if not isinstance(fix, Guard):
        return None
    target = fix.stmt if fix.replacement is None else fix.replacement
    if any(suspends(stmt) for stmt in (*fix.leaders, target, *fix.followers)):
        return "the statement awaits or yields; a thread lock must not be held across it"
    if fix.function.asynchronous is not None:
        return (
            f"it runs in `async def {fix.function.name.value}`: a thread lock there would block the event loop "
            "(coroutines of one loop do not interleave without an `await`)"
        )
    if fix.double_checked and not isinstance(target, cst.If):
        return "double-checked locking needs an `if` statement"
    if fix.double_checked and target.orelse is not None:
        return "the `if` has an `else`/`elif` branch, which double-checked locking would run at the wrong time"
    return None


def _key(guard: Guard) -> tuple:
    return (guard.domain, guard.state)


class LockPlanner:
    """Chooses a lock for every guard of one file, then writes the code."""

    def __init__(
        self, ctx: FileContext, guards: list[Guard], replaces: list[Replace], known: list[tuple[Guard, LockRef]], unsafe_fixes: bool = False
    ):
        self.ctx = ctx
        self.unsafe_fixes = unsafe_fixes
        self.unsafe: dict[int, str] = {}  # id(fix) -> why it is unsafe (fixsafety)
        self.guards = guards
        self.replaces = replaces
        self.known = known  # sites that are already locked: (their guard, their lock)
        self.refused: dict[int, str] = {}
        self.covered: set[int] = set()
        self.nested: list[tuple[Guard, Guard]] = []  # (covered guard, the guard covering it)
        self.taken: set[str] | None = None  # the module's identifiers, once a new name is written
        self.writing = True
        self.inserted = Inserted()

    # --- planning -----------------------------------------------------------------------
    def _prune(self) -> tuple[list[Guard], list[Replace]]:
        guards = []
        containers = frozenset(state_code(g) for g in self.guards)
        for g in self.guards:
            reason = refusal(g) or next((refusal(c) for c in g.together if refusal(c)), None)
            hazard = combined(*(code_hazard(c, containers) for c in (g, *g.together))) if reason is None else None
            if hazard is not None:
                self.unsafe[id(g)] = hazard
            if reason is not None:
                self.refused[id(g)] = reason
            elif hazard is None or self.unsafe_fixes:
                guards.append(g)
        replaces = []
        guarded_stmts = {id(g.stmt) for g in guards}
        for r in self.replaces:
            if id(r.stmt) in guarded_stmts:
                self.refused[id(r)] = "overlaps another fix"
            else:
                replaces.append(r)
        # A fix inside another fix's statement, or on one of a guard's followers, is covered by it.
        owners: dict[int, Guard | Replace] = {id(f.stmt): f for f in [*guards, *replaces]}
        followed: dict[int, Guard] = {id(stmt): g for g in guards for stmt in (*g.leaders, *g.followers)}
        owners.update(followed)

        def outer(fix: Guard | Replace) -> Guard | Replace | None:
            if id(fix.stmt) in followed:
                return followed[id(fix.stmt)]
            for a in self.ctx.ancestors(fix.stmt):
                if isinstance(a, NESTED_SCOPES):
                    return None  # code defined under a lock runs later, without it
                if id(a) in owners:
                    return owners[id(a)]
            return None

        kept_guards = []
        for g in guards:
            cover = outer(g)
            if cover is None:
                kept_guards.append(g)
            else:
                self.covered.add(id(g))
                if isinstance(cover, Guard):
                    self.nested.append((g, cover))
        kept_replaces = []
        for r in replaces:
            if outer(r) is not None:
                self.refused[id(r)] = "inside another fix"
            else:
                kept_replaces.append(r)
        return kept_guards, kept_replaces

    def _components(self, guards: list[Guard]) -> dict:
        uf = _UnionFind()
        by_function: dict = {}
        by_stmt: dict = {}
        for g in guards:
            uf.find(_key(g))
            by_function.setdefault((id(g.function), g.domain), []).append(g)
            by_stmt.setdefault(id(g.stmt), []).append(g)
        for group in [*by_function.values(), *by_stmt.values()]:
            for g in group[1:]:
                if g.domain == group[0].domain:
                    uf.union(_key(group[0]), _key(g))
        # State locked by an enclosing guard keeps that guard's lock everywhere else too.
        for inner, cover in self.nested:
            if inner.domain == cover.domain:
                uf.union(_key(cover), _key(inner))
        components: dict = {}
        for g in guards:
            components.setdefault(uf.find(_key(g)), []).append(g)
        return components

    def _expr_for(self, guard: Guard, lock: _Lock) -> str | None:
        """How ``guard``'s function names ``lock``; None if it cannot reach it."""
        if guard.domain.kind in ("class", "instance") and (lock.name is not None or lock.attribute):
            return f"{guard.receiver}.{lock.name or lock.existing}"
        code = lock.name or lock.existing
        if lock.existing is not None:
            root = code.split(".")[0]
            if root in self.ctx.local_bindings(guard.function):
                return None
        return code

    def _portable_existing(self, ref: LockRef, component: list[Guard]) -> _Lock | None:
        """An existing lock expression usable by every guard of the component: a lock
        attribute of the state's class (for class and instance state), a module-level lock
        (for any state but closure state), or a local of the closure's owner (for closure state)."""
        if ref.kind == "decorator" or not ref.code:
            return None
        try:
            expr = cst.parse_expression(ref.code)
        except cst.ParserSyntaxError:
            return None
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return None
        domain = component[0].domain
        root = ref.code.split(".")[0]
        if domain.kind in ("class", "instance") and self._is_class_lock(ref, expr, domain):
            lock = _Lock(name=None, existing=expr.attr.value, attribute=True)
            return lock if self._proven_everywhere(lock, component) else None
        if domain.kind == "closure":
            if root not in self.ctx.local_bindings(domain.owner):  # the lock must be a local of the owner function
                return None
        elif root not in self.ctx.module_bindings() or (ref.function is not None and root in self.ctx.local_bindings(ref.function)):
            return None
        lock = _Lock(name=None, existing=ref.code)
        return lock if self._proven_everywhere(lock, component) else None

    def _proven_everywhere(self, lock: _Lock, component: list[Guard]) -> bool:
        """Every guard of the component can name ``lock``, and there it is a proven thread lock."""
        for g in component:
            expr = self._expr_for(g, lock)
            if expr is None or not all(proven_lock(self.ctx, expr, g.function, stmt) for stmt in (g.stmt, *g.followers)):
                return False
        return True

    def _is_class_lock(self, ref: LockRef, expr: cst.BaseExpression, domain: Domain) -> bool:
        """``self._lock`` / ``cls._lock`` / ``Owner._lock``: a lock attribute of ``domain``'s class."""
        if not (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name)):
            return False
        cls = domain.owner
        holder = expr.value.value
        own_receiver = ref.function is not None and self.ctx.method_class(ref.function) is cls and holder == self.ctx.first_param(ref.function)
        if holder != cls.name.value and not own_receiver:
            return False
        class_level, instance_level = self.ctx.class_lock_attrs(cls)
        attr = expr.attr.value
        return attr in class_level or (domain.kind == "instance" and attr in instance_level)

    def _caller_deadlock(self, lock: _Lock, component: list[Guard]) -> str | None:
        """Why taking the existing ``lock`` in the component's functions would deadlock (a
        caller already holds it), else None."""
        for g in component:
            call = self.ctx.called_while_holding(g.function, lock.existing)
            if call is not None:
                line = self.ctx.position(call).start.line
                shown = f"{g.receiver}.{lock.existing}" if lock.attribute else lock.existing
                return (
                    f"`{g.function.name.value}` is called while `{shown}` is held (line {line}); "
                    "taking that lock again here would deadlock"
                )
        return None

    def _choose(self, component: list[Guard]) -> _Lock | str:
        """The lock for a component, or the reason no lock can be used safely: an existing
        lock only when it already guards this state elsewhere and is a proven ``threading``
        lock wherever the component takes it (``ftmigrate.threadlocks``); none when the
        state is locked elsewhere by something else; else a new one."""
        keys = {_key(g) for g in component}
        known = [ref for g, ref in self.known if _key(g) in keys]
        known += [ref for domain, state in keys for ref in state_guards(self.ctx, domain.kind, domain.owner, state)]
        for ref in known:
            lock = self._portable_existing(ref, component)
            if lock is not None:
                return self._caller_deadlock(lock, component) or lock
        if known:
            # A new lock would not exclude the code that already locks this state.
            shown = f"`{known[0].code}`" if known[0].code else "a lock that cannot be named here"
            return (
                f"`{component[0].state}` is locked elsewhere by {shown}, which is not a proven threading lock "
                "here; a new lock would not exclude that code"
            )
        name = self._fresh(self._names(component))
        kind = "RLock" if any(g.reentrant for g in component) else "Lock"
        return _Lock(name=name, existing=None, kind=kind)

    def _names(self, component: list[Guard]) -> list[str]:
        """Candidate names for a new lock of ``component`` (``ftmigrate.locknames``)."""
        domain = component[0].domain
        owner = module_name(self.ctx.path) if domain.kind == "module" else domain.owner.name.value
        return candidates([g.state for g in component], owner, [g.function.name.value for g in component])

    def _fresh(self, names: list[str]) -> str:
        """The first of ``names`` the module does not use yet, else the first, numbered.
        Without writing, any name does: a new lock's name decides nothing (and collecting
        every identifier of a module means walking all of it)."""
        if not self.writing:
            return names[0]
        if self.taken is None:
            self.taken = set(self.ctx.identifiers)
        name = next((n for n in names if n not in self.taken), names[0])
        base, n = name, 1
        while name in self.taken:
            name = f"{base}{n}"
            n += 1
        self.taken.add(name)
        return name

    def _callee_deadlock(self, component: list[Guard], lock: _Lock) -> str | None:
        """Why holding an existing non-reentrant lock around the guarded code would
        deadlock: the code calls a function of this module that takes the same lock."""
        if lock.existing is None:
            return None
        attr = lock.existing.rsplit(".", 1)[-1]
        if self.ctx.is_reentrant_lock(attr):
            return None
        by_attr = lock.attribute
        for g in component:
            for callee in called_functions(self.ctx, g.span, g.function):
                for ref in self.ctx.held_locks(callee):
                    same = ref.code.rsplit(".", 1)[-1] == attr and "." in ref.code if by_attr else ref.code == lock.existing
                    if same:
                        return (
                            f"it calls {callee.name.value}(), which takes `{ref.code}` too; holding that lock here "
                            "would deadlock"
                        )
        return None

    # --- placement ----------------------------------------------------------------------
    def _body_of(self, domain: Domain) -> cst.CSTNode | None:
        if domain.kind == "module":
            return self.ctx.module
        block = domain.owner.body
        return block if isinstance(block, cst.IndentedBlock) else None

    def _insert_index(self, domain: Domain, body: list, anchor: str) -> int:
        """Index of the statement after which the new lock is defined (-1: at the top).

        Right after the state's own assignment when that is a simple statement; before the
        compound statement (``if __name__ == ...``, ``try``) that assigns it otherwise, so the
        lock exists before any code in that block can run; after the docstring and imports
        (including an existing threading import) when the body never assigns the state.
        """
        top = 1 if body and _is_docstring(body[0]) else 0
        if domain.kind == "module":
            top = _import_block_end(body)
            for i, stmt in enumerate(body):
                if _imports_threading(stmt):
                    top = max(top, i + 1)
        for i, stmt in enumerate(body):
            if anchor in top_level_bindings(stmt):
                position = i if isinstance(stmt, cst.SimpleStatementLine) else i - 1
                return max(position, top - 1)
        return top - 1

    def _lock_index(self, domain: Domain, body: list, anchors) -> int:
        """Where a lock for several states goes: after the last of their assignments when
        only call-free simple statements lie in between (no code can run before the lock
        exists), else after the first (every function using the lock runs after it)."""
        indexes = sorted(self._insert_index(domain, body, anchor) for anchor in anchors)
        between = body[indexes[0] + 1 : indexes[-1] + 1]
        if all(isinstance(s, cst.SimpleStatementLine) and not any(isinstance(n, cst.Call) for n in walk(s)) for s in between):
            return indexes[-1]
        return indexes[0]

    def _factory(self, kind: str) -> str:
        if kind in self.ctx.threading_names:
            return f"{self.ctx.threading_names[kind]}()"
        if self.ctx.threading_aliases:
            return f"{self.ctx.threading_aliases[0]}.{kind}()"
        self.needs_import = True
        return f"threading.{kind}()"

    # --- the whole thing ----------------------------------------------------------------
    def run(self, write: bool = True) -> Outcome:
        """Plan every fix; with ``write``, also produce the rewritten module (else the
        outcome's module is the input: enough to know what would be applied or refused)."""
        self.needs_import = False
        self.writing = write
        guards, replaces = self._prune()
        wraps: dict[int, tuple[str, Guard]] = {}
        defs: dict[int, list[tuple[int, str]]] = {}
        for component in self._components(guards).values():
            lock = self._choose(component)
            reason = lock if isinstance(lock, str) else self._callee_deadlock(component, lock)
            if reason is not None:
                for g in component:
                    self.refused[id(g)] = reason
                continue
            component = self._safe_enough(component, lock)
            if not component:
                continue
            if lock.name is not None:
                domain = component[0].domain
                container = self._body_of(domain)
                problem = "cannot place a lock in a one-line class or function body" if container is None else None
                if domain.kind in ("class", "instance") and any(
                    re.search(r"(Enum|Flag)$", self.ctx.code(base.value)) for base in domain.owner.bases
                ):
                    problem = "a lock attribute added to an Enum class would become a member"
                if problem is not None:
                    for g in component:
                        self.refused[id(g)] = problem
                    continue
                body = list(container.body)
                anchors = dict.fromkeys(g.anchor or g.state for g in component)
                index = self._lock_index(domain, body, anchors)
                defs.setdefault(id(container), []).append((index, f"{lock.name} = {self._factory(lock.kind)}"))
                self.inserted.lock_names.add(lock.name)
            for g in component:
                expr = self._expr_for(g, lock)
                if expr is None:
                    self.refused[id(g)] = "the lock is not reachable from this function"
                    continue
                for stmt in g.span:
                    wraps[id(stmt)] = (expr, g)
                self.inserted.lock_exprs.add(expr)
                if g.replacement is not None:
                    self._substitution(g.stmt, g.replacement)
        for r in replaces:
            self._substitution(r.stmt, r.new)
        module = self.ctx.module
        if write:
            touched = [*(stmt for g in guards for stmt in g.span if id(stmt) in wraps), *(r.stmt for r in replaces)]
            touched += [self._body_of(g.domain) for g in guards if id(self._body_of(g.domain)) in defs]
            on_the_way = {id(node) for t in touched for node in (t, *self.ctx.ancestors(t))}
            applier = _Applier(wraps, {id(r.stmt): r.new for r in replaces}, defs, module, on_the_way)
            module = module.visit(applier)
            for g in guards:
                if id(g.stmt) in wraps and id(g.stmt) not in applier.written and id(g) not in self.refused:
                    self.refused[id(g)] = "the statement is not in a block ftmigrate can rewrite"
        if write and self.needs_import:
            module = add_threading_import(module)
        applied = {id(g) for g in guards if id(g.stmt) in wraps and id(g) not in self.refused}
        applied |= {id(r) for r in replaces} | self.covered
        for inner, cover in self.nested:  # a covered fix is as safe as, and applied with, its cover
            if id(cover) in self.unsafe:
                self.unsafe[id(inner)] = self.unsafe[id(cover)]
            if id(cover) not in applied:
                applied.discard(id(inner))
        return Outcome(module=module, inserted=self.inserted, applied=applied, refused=self.refused, unsafe=self.unsafe)

    def _safe_enough(self, component: list[Guard], lock: _Lock) -> list[Guard]:
        """The guards of ``component`` to apply with ``lock``: all of them with
        ``unsafe_fixes``, else those whose fix is safe (``ftmigrate.fixsafety``)."""
        domain = component[0].domain
        class_wide = domain.kind == "instance" and not (
            lock.attribute and lock.existing in self.ctx.class_lock_attrs(domain.owner)[1]
        )
        for g in component:
            reason = combined(self.unsafe.get(id(g)), lock_hazard(g, class_wide))
            if reason is not None:
                self.unsafe[id(g)] = reason
        if self.unsafe_fixes:
            return component
        return [g for g in component if id(g) not in self.unsafe]

    def _substitution(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        code = self.ctx.module.code_for_node
        self.inserted.substitutions.append((_dedented(code(old)), _dedented(code(new))))


def _dedented(code: str) -> str:
    """A statement's code on its own, with its leading blank lines and comments kept harmless."""
    return textwrap.dedent(code)


def _imports_threading(stmt: cst.CSTNode) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    for small in stmt.body:
        if isinstance(small, cst.Import) and any(dotted(a.name) == "threading" for a in small.names):
            return True
        if isinstance(small, cst.ImportFrom) and small.module is not None and dotted(small.module) == "threading":
            return True
    return False


def _import_block_end(body: list) -> int:
    """Where AddImportsVisitor puts new imports: after the docstring and leading imports."""
    i = 1 if body and _is_docstring(body[0]) else 0
    while i < len(body) and isinstance(body[i], cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in body[i].body
    ):
        i += 1
    return i


def _blank_lines(stmt: cst.CSTNode | None) -> tuple:
    """The blank lines ``stmt`` starts with (before any comment): a lock defined between two
    blocks is spaced like the code around it."""
    lines = []
    for line in getattr(stmt, "leading_lines", ()):
        if line.comment is not None:
            break
        lines.append(cst.EmptyLine(indent=False))  # no trailing whitespace in indented bodies
    return tuple(lines)


class _Applier(cst.CSTTransformer):
    """Writes the planned wraps, replacements and lock definitions in one pass.

    Only the nodes ``on_the_way`` to a change (ids) are entered: a subtree without one
    comes back as it is, so a large module costs no more than the paths to its changes.
    """

    def __init__(self, wraps, replaces, defs, module: cst.Module, on_the_way: set[int]) -> None:
        super().__init__()
        self.wraps = wraps
        self.replaces = replaces
        self.defs = defs
        self.config = module.config_for_parsing
        self.on_the_way = on_the_way
        self.written: set[int] = set()  # id() of the original statements actually wrapped

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self.on_the_way

    def _lock_item(self, expr: str) -> list[cst.WithItem]:
        return [cst.WithItem(item=cst.parse_expression(expr, config=self.config))]

    def _with(self, expr: str, stmts: list[cst.BaseStatement]) -> cst.With:
        first = stmts[0]
        inner = [first.with_changes(leading_lines=()), *stmts[1:]]
        return cst.With(items=self._lock_item(expr), body=cst.IndentedBlock(body=inner), leading_lines=first.leading_lines)

    def _double_checked(self, expr: str, stmt: cst.If) -> cst.If:
        """``if T: body`` -> ``if T: with L: if T: body``. Comments above the ``if`` and at
        the end of its line stay on the outer (original) line; the body keeps its own."""
        header = cst.TrailingWhitespace()
        inner = stmt.with_changes(leading_lines=())
        if isinstance(stmt.body, cst.IndentedBlock):
            header = stmt.body.header
            inner = inner.with_changes(body=stmt.body.with_changes(header=cst.TrailingWhitespace()))
        with_ = cst.With(items=self._lock_item(expr), body=cst.IndentedBlock(body=[inner]))
        return cst.If(
            test=stmt.test.deep_clone(),
            body=cst.IndentedBlock(body=[with_], header=header),
            leading_lines=stmt.leading_lines,
            whitespace_before_test=stmt.whitespace_before_test,
            whitespace_after_test=stmt.whitespace_after_test,
        )

    def _rebuild(self, container: cst.CSTNode, original: tuple, updated: tuple) -> list:
        defs: dict[int, list[str]] = {}
        for index, code in self.defs.get(id(container), []):
            defs.setdefault(index, []).append(code)

        def defs_at(index: int) -> list[cst.BaseStatement]:
            return [cst.parse_statement(code + self.config.default_newline, config=self.config) for code in defs.get(index, [])]

        out = defs_at(-1)
        if out and original and isinstance(updated[0], (cst.FunctionDef, cst.ClassDef)) and not updated[0].leading_lines:
            # A lock defined above what was the first statement of a body, a def: keep them apart.
            updated = (updated[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)]), *updated[1:])
        i = 0
        while i < len(original):
            stmt = updated[i]
            if id(original[i]) in self.replaces:
                # The replacement's own leading lines (comments it carries over from the
                # statement it replaces) go after the replaced statement's.
                new = self.replaces[id(original[i])]
                stmt = new.with_changes(leading_lines=(*stmt.leading_lines, *new.leading_lines))
            wrap = self.wraps.get(id(original[i]))
            last = i
            if wrap is None:
                out.append(stmt)
            else:
                expr, guard = wrap
                self.written.add(id(original[i]))
                if guard.replacement is not None and original[i] is guard.stmt:
                    stmt = guard.replacement.with_changes(leading_lines=stmt.leading_lines)
                if guard.double_checked and original[i] is guard.stmt:
                    out.append(self._double_checked(expr, stmt))
                else:
                    group = [stmt]
                    while last + 1 < len(original):
                        nxt = self.wraps.get(id(original[last + 1]))
                        if nxt is None or nxt[0] != expr or nxt[1].double_checked or nxt[1].replacement is not None:
                            break
                        last += 1
                        group.append(updated[last])
                        self.written.add(id(original[last]))
                    out.append(self._with(expr, group))
            for k in range(i, last + 1):
                following = updated[k + 1] if k + 1 < len(updated) else None
                # After a block, or after a docstring, a lock is spaced like the code that follows.
                after_block = isinstance(original[k], cst.BaseCompoundStatement) or (k == 0 and _is_docstring(original[k]))
                spacing = _blank_lines(following) if after_block else ()
                for code in defs.get(k, []):
                    statement = cst.parse_statement(code + self.config.default_newline, config=self.config)
                    out.append(statement.with_changes(leading_lines=spacing))
            i = last + 1
        return out

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._rebuild(original_node, original_node.body, updated_node.body))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._rebuild(original_node, original_node.body, updated_node.body))

    def leave_SimpleStatementSuite(self, original_node, updated_node):
        wrap = self.wraps.get(id(original_node))
        if wrap is None:
            return updated_node
        self.written.add(id(original_node))
        line = cst.SimpleStatementLine(body=updated_node.body)
        return cst.IndentedBlock(body=[self._with(wrap[0], [line])], header=updated_node.trailing_whitespace)


def apply_fixes(
    ctx: FileContext,
    guards: list[Guard],
    replaces: list[Replace],
    known: list[tuple[Guard, LockRef]],
    *,
    write: bool = True,
    unsafe_fixes: bool = False,
) -> Outcome:
    """Plan (and with ``write``, write) the fixes; unsafe ones only with ``unsafe_fixes``."""
    return LockPlanner(ctx, guards, replaces, known, unsafe_fixes).run(write)
