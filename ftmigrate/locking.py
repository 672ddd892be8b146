"""The one place that inserts locks. Rules describe *what* must run under a lock; this
module decides *which* lock, on the file's ``ast``; ``ftmigrate.lockwriter`` writes
the code into LibCST's tree of the same file.

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

import ast
import re
from typing import TYPE_CHECKING

from ftmigrate.analysis import NESTED_SCOPES, FileContext
from ftmigrate.fixes import Guard, Inserted, LockRef, Outcome, Replace, refusal
from ftmigrate.fixsafety import code_hazard, combined, lock_hazard, state_code
from ftmigrate.locknames import candidates, module_name
from ftmigrate.lockplace import body_of, lock_index
from ftmigrate.lockreuse import (
    Lock,
    callee_deadlock,
    caller_deadlock,
    expr_for,
    portable_existing,
)
from ftmigrate.spans import simple_line
from ftmigrate.threadlocks import state_guards

if TYPE_CHECKING:
    import libcst as cst

    from ftmigrate.cstpair import StatementMap


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


def _key(guard: Guard) -> tuple:
    return (guard.domain, guard.state)


class LockPlanner:
    """Chooses a lock for every guard of one file, then has the writer write the code."""

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
    def _line(self, stmt: ast.stmt) -> int:
        """The same number for the statements LibCST rewrites as one line (``a; b``)."""
        return id(simple_line(self.ctx, stmt)[0])

    def _prune(self) -> tuple[list[Guard], list[Replace]]:
        guards = []
        containers = frozenset(state_code(g) for g in self.guards)
        for g in self.guards:
            reason = refusal(g) or next((refusal(c) for c in g.together if refusal(c)), None)
            hazard = combined(*(code_hazard(self.ctx, c, containers) for c in (g, *g.together))) if reason is None else None
            if hazard is not None:
                self.unsafe[id(g)] = hazard
            if reason is not None:
                self.refused[id(g)] = reason
            elif hazard is None or self.unsafe_fixes:
                guards.append(g)
        replaces = []
        guarded_stmts = {self._line(g.stmt) for g in guards}
        for r in self.replaces:
            if self._line(r.stmt) in guarded_stmts:
                self.refused[id(r)] = "overlaps another fix"
            else:
                replaces.append(r)
        # A fix inside another fix's statement, or on one of a guard's followers, is covered by it.
        owners: dict[int, Guard | Replace] = {self._line(f.stmt): f for f in [*guards, *replaces]}
        followed: dict[int, Guard] = {
            self._line(stmt): g for g in guards for stmt in (*g.leaders, *g.followers) if self._line(stmt) != self._line(g.stmt)
        }
        owners.update(followed)

        def outer(fix: Guard | Replace) -> Guard | Replace | None:
            if self._line(fix.stmt) in followed:
                return followed[self._line(fix.stmt)]
            for a in self.ctx.ancestors(fix.stmt):
                if isinstance(a, NESTED_SCOPES):
                    return None  # code defined under a lock runs later, without it
                if isinstance(a, ast.stmt) and id(a) in owners:
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
            by_stmt.setdefault(self._line(g.stmt), []).append(g)
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

    def _choose(self, component: list[Guard]) -> Lock | str:
        """The lock for a component, or the reason no lock can be used safely: an existing
        lock only when it already guards this state elsewhere and is a proven ``threading``
        lock wherever the component takes it (``ftmigrate.threadlocks``); none when the
        state is locked elsewhere by something else; else a new one."""
        keys = {_key(g) for g in component}
        known = [ref for g, ref in self.known if _key(g) in keys]
        known += [ref for domain, state in keys for ref in state_guards(self.ctx, domain.kind, domain.owner, state)]
        for ref in known:
            lock = portable_existing(self.ctx, ref, component)
            if lock is not None:
                return caller_deadlock(self.ctx, lock, component) or lock
        if known:
            # A new lock would not exclude the code that already locks this state.
            shown = f"`{known[0].code}`" if known[0].code else "a lock that cannot be named here"
            return (
                f"`{component[0].state}` is locked elsewhere by {shown}, which is not a proven threading lock "
                "here; a new lock would not exclude that code"
            )
        name = self._fresh(self._names(component))
        kind = "RLock" if any(g.reentrant for g in component) else "Lock"
        return Lock(name=name, existing=None, kind=kind)

    def _names(self, component: list[Guard]) -> list[str]:
        """Candidate names for a new lock of ``component`` (``ftmigrate.locknames``)."""
        domain = component[0].domain
        owner = module_name(self.ctx.path) if domain.kind == "module" else domain.owner.name
        return candidates([g.state for g in component], owner, [g.function.name for g in component])

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

    def _factory(self, kind: str) -> str:
        if kind in self.ctx.threading_names:
            return f"{self.ctx.threading_names[kind]}()"
        if self.ctx.threading_aliases:
            return f"{self.ctx.threading_aliases[0]}.{kind}()"
        self.needs_import = True
        return f"threading.{kind}()"

    def _placement_problem(self, domain) -> str | None:
        """Why no new lock can be defined in ``domain``'s body, else None."""
        if domain.kind in ("class", "instance") and any(re.search(r"(Enum|Flag)$", self.ctx.code(base)) for base in domain.owner.bases):
            return "a lock attribute added to an Enum class would become a member"
        if body_of(self.ctx, domain) is None:
            return "cannot place a lock in a one-line class or function body"
        return None

    # --- the whole thing ----------------------------------------------------------------
    def run(self, module: cst.Module | None = None, pairing: StatementMap | None = None, write: bool = True) -> Outcome:
        """Plan every fix; with ``write``, also produce the rewritten LibCST ``module``
        (``pairing``: its statements paired with the ``ast`` ones; else the outcome's module
        is the input: enough to know what would be applied or refused)."""
        self.needs_import = False
        self.writing = write
        guards, replaces = self._prune()
        wraps: dict[int, tuple[str, Guard]] = {}  # id(ast statement) -> (lock expression, guard)
        defs: list[tuple[object, list, str]] = []  # (domain, anchors, code of the new lock)
        substitutions: list[tuple[ast.stmt, object]] = []
        for component in self._components(guards).values():
            lock = self._choose(component)
            reason = lock if isinstance(lock, str) else callee_deadlock(self.ctx, component, lock)
            if reason is not None:
                for g in component:
                    self.refused[id(g)] = reason
                continue
            component = self._safe_enough(component, lock)
            if not component:
                continue
            if lock.name is not None:
                domain = component[0].domain
                problem = self._placement_problem(domain)
                if problem is not None:
                    for g in component:
                        self.refused[id(g)] = problem
                    continue
                anchors = list(dict.fromkeys(g.anchor or g.state for g in component))
                defs.append((domain, anchors, f"{lock.name} = {self._factory(lock.kind)}"))
                self.inserted.lock_names.add(lock.name)
            for g in component:
                expr = expr_for(self.ctx, g, lock)
                if expr is None:
                    self.refused[id(g)] = "the lock is not reachable from this function"
                    continue
                for stmt in g.span:
                    wraps[id(stmt)] = (expr, g)
                self.inserted.lock_exprs.add(expr)
                if g.replacement is not None:
                    substitutions.append((g.stmt, g.replacement))
        substitutions += [(r.stmt, r.new) for r in replaces]
        if write:
            module = self._write(module, pairing, guards, replaces, wraps, defs, substitutions)
        applied = {id(g) for g in guards if id(g.stmt) in wraps and id(g) not in self.refused}
        applied |= {id(r) for r in replaces} | self.covered
        for inner, cover in self.nested:  # a covered fix is as safe as, and applied with, its cover
            if id(cover) in self.unsafe:
                self.unsafe[id(inner)] = self.unsafe[id(cover)]
            if id(cover) not in applied:
                applied.discard(id(inner))
        return Outcome(module=module, inserted=self.inserted, applied=applied, refused=self.refused, unsafe=self.unsafe)

    def _write(self, module, pairing, guards, replaces, wraps, defs, substitutions) -> cst.Module:
        from ftmigrate.lockwriter import LockWriter

        writer = LockWriter(self.ctx, module, pairing)
        for domain, anchors, code in defs:
            index = lock_index(domain, writer.units(domain), anchors)
            writer.define(domain, index, code)
        for stmt, rewrite in substitutions:
            self.inserted.substitutions.append(writer.substitution(stmt, rewrite))
        spans = [stmt for g in guards for stmt in g.span if id(stmt) in wraps]
        module = writer.write(spans, wraps, replaces, self.needs_import)
        for g in guards:
            if id(g.stmt) in wraps and not writer.wrote(g.stmt) and id(g) not in self.refused:
                self.refused[id(g)] = "the statement is not in a block ftmigrate can rewrite"
        return module

    def _safe_enough(self, component: list[Guard], lock: Lock) -> list[Guard]:
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


def apply_fixes(
    ctx: FileContext,
    module: cst.Module | None,
    pairing: StatementMap | None,
    guards: list[Guard],
    replaces: list[Replace],
    known: list[tuple[Guard, LockRef]],
    *,
    write: bool = True,
    unsafe_fixes: bool = False,
) -> Outcome:
    """Plan (and with ``write``, write into ``module`` through ``pairing``) the fixes;
    unsafe ones only with ``unsafe_fixes``. Without ``write``, ``module`` and ``pairing``
    are not used (None will do)."""
    return LockPlanner(ctx, guards, replaces, known, unsafe_fixes).run(module, pairing, write)
