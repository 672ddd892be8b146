"""The one place that inserts locks. Rules describe *what* must run under a lock; this
module decides *which* lock and writes the code.

Planning, for all fixes of a file at once (so rules share locks):
- State is identified by a key: (domain, state name). A domain is where a lock for that
  state can live: the module (globals, module containers, module attributes), a class
  (class attributes), the instances of a class (``self.x``), or a closure (``nonlocal``).
- Keys of one domain touched by the same function are merged (union-find) and get one
  lock (named after them: ``_hits_misses_lock``), so a function never takes two inserted
  locks and every site of a key, in every function, uses the same lock. Guards of different domains are never nested.
- A merged group reuses, in order: a lock that already guards another site of the same
  state; a lock the function already takes elsewhere; the class's lock attribute
  (``self._lock``); else a new lock named after the state (``_counter_lock``), placed
  right after the state's own assignment, named so that it collides with nothing.
- The lock is ``threading.RLock`` when a guarded statement calls code we cannot see (a
  re-entrant call from the same thread then still works), else ``threading.Lock``.
- A statement that awaits or yields is never put under a lock (it would be held while
  suspended): the fix is refused and the finding stays.

``apply_fixes`` returns the new module and an ``Inserted`` record that ``verify`` uses
to check that nothing but lock code changed.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from ftmigrate.analysis import FileContext, LockRef, suspends, top_level_bindings


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
    existing: str | None  # code of an existing lock expression (module/closure) or attribute name
    kind: str = "Lock"


def refusal(fix: Guard | Replace) -> str | None:
    """Why ``fix`` can never be applied (known before planning), else None."""
    if isinstance(fix, Guard) and suspends(fix.stmt if fix.replacement is None else fix.replacement):
        return "the statement awaits or yields; a thread lock must not be held across it"
    return None


def _key(guard: Guard) -> tuple:
    return (guard.domain, guard.state)


def _stem(state: str) -> str:
    stem = re.sub(r"\W+", "_", state).strip("_")
    return stem or "state"


class LockPlanner:
    """Chooses a lock for every guard of one file, then writes the code."""

    def __init__(self, ctx: FileContext, guards: list[Guard], replaces: list[Replace], known: list[tuple[Guard, LockRef]]):
        self.ctx = ctx
        self.guards = guards
        self.replaces = replaces
        self.known = known  # sites that are already locked: (their guard, their lock)
        self.refused: dict[int, str] = {}
        self.covered: set[int] = set()
        self.taken: set[str] = set(ctx.identifiers)
        self.inserted = Inserted()

    # --- planning -----------------------------------------------------------------------
    def _prune(self) -> tuple[list[Guard], list[Replace]]:
        guards = []
        for g in self.guards:
            reason = refusal(g)
            if reason is not None:
                self.refused[id(g)] = reason
            else:
                guards.append(g)
        replaces = []
        guarded_stmts = {id(g.stmt) for g in guards}
        for r in self.replaces:
            if id(r.stmt) in guarded_stmts:
                self.refused[id(r)] = "overlaps another fix"
            else:
                replaces.append(r)
        # A fix inside another fix's statement is covered by it.
        targets = {id(f.stmt): f for f in [*guards, *replaces]}
        kept_guards = []
        for g in guards:
            if any(id(a) in targets for a in self.ctx.ancestors(g.stmt)):
                self.covered.add(id(g))
            else:
                kept_guards.append(g)
        kept_replaces = []
        for r in replaces:
            if any(id(a) in targets for a in self.ctx.ancestors(r.stmt)):
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
        components: dict = {}
        for g in guards:
            components.setdefault(uf.find(_key(g)), []).append(g)
        return components

    def _expr_for(self, guard: Guard, lock: _Lock) -> str | None:
        """How ``guard``'s function names ``lock``; None if it cannot reach it."""
        domain = guard.domain
        if domain.kind in ("class", "instance"):
            attr = lock.name or lock.existing
            return f"{guard.receiver}.{attr}"
        code = lock.name or lock.existing
        if lock.existing is not None:
            root = code.split(".")[0]
            if root in self.ctx.local_bindings(guard.function):
                return None
        return code

    def _portable_existing(self, ref: LockRef, component: list[Guard]) -> _Lock | None:
        """An existing lock expression usable by every guard of the component."""
        if ref.kind == "decorator" or not ref.code:
            return None
        try:
            expr = cst.parse_expression(ref.code)
        except cst.ParserSyntaxError:
            return None
        domain = component[0].domain
        if domain.kind in ("class", "instance"):
            cls = domain.owner
            class_level, instance_level = self.ctx.class_lock_attrs(cls)
            if not isinstance(expr, cst.Attribute) or not isinstance(expr.value, cst.Name):
                return None
            attr = expr.attr.value
            if attr in class_level or (domain.kind == "instance" and attr in instance_level):
                return _Lock(name=None, existing=attr)
            return None
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return None
        root = ref.code.split(".")[0]
        if domain.kind == "module":
            if root not in self.ctx.module_bindings():
                return None
            if ref.function is not None and root in self.ctx.local_bindings(ref.function):
                return None
        else:  # closure: the lock must be a local of the owner function
            if root not in self.ctx.local_bindings(domain.owner):
                return None
        lock = _Lock(name=None, existing=ref.code)
        if all(self._expr_for(g, lock) is not None for g in component):
            return lock
        return None

    def _choose(self, component: list[Guard]) -> _Lock:
        keys = {_key(g) for g in component}
        candidates = [ref for g, ref in self.known if _key(g) in keys]
        for func in dict.fromkeys(g.function for g in component):
            candidates += self.ctx.held_locks(func)
        for ref in candidates:
            lock = self._portable_existing(ref, component)
            if lock is not None:
                return lock
        domain = component[0].domain
        if domain.kind in ("class", "instance"):
            class_level, instance_level = self.ctx.class_lock_attrs(domain.owner)
            attrs = class_level + (instance_level if domain.kind == "instance" else [])
            if attrs:
                return _Lock(name=None, existing=attrs[0])
        states = list(dict.fromkeys(_stem(g.state) for g in component))
        name = "_" + "_".join(states[:3]) + "_lock"
        base, n = name, 1
        while name in self.taken:
            name = f"{base}{n}"
            n += 1
        self.taken.add(name)
        kind = "RLock" if any(g.reentrant for g in component) else "Lock"
        return _Lock(name=name, existing=None, kind=kind)

    # --- placement ----------------------------------------------------------------------
    def _body_of(self, domain: Domain) -> cst.CSTNode | None:
        if domain.kind == "module":
            return self.ctx.module
        block = domain.owner.body
        return block if isinstance(block, cst.IndentedBlock) else None

    def _insert_index(self, domain: Domain, body: list, anchor: str) -> int:
        """Index of the statement after which the new lock is defined (-1: at the top)."""
        top = 0 if not body or not _is_docstring(body[0]) else 1
        if domain.kind == "module":
            top = _import_block_end(body)
            for i, stmt in enumerate(body):
                if isinstance(stmt, cst.SimpleStatementLine) and "threading" in top_level_bindings(stmt) | set(
                    self.ctx.threading_names.values()
                ):
                    top = max(top, i + 1)
        for i, stmt in enumerate(body):
            if anchor in top_level_bindings(stmt):
                return max(i, top - 1)
        return top - 1

    def _factory(self, kind: str) -> str:
        if kind in self.ctx.threading_names:
            return f"{self.ctx.threading_names[kind]}()"
        if self.ctx.threading_aliases:
            return f"{self.ctx.threading_aliases[0]}.{kind}()"
        self.needs_import = True
        return f"threading.{kind}()"

    # --- the whole thing ----------------------------------------------------------------
    def run(self) -> Outcome:
        self.needs_import = False
        guards, replaces = self._prune()
        wraps: dict[int, tuple[str, Guard]] = {}
        defs: dict[int, list[tuple[int, str]]] = {}
        for component in self._components(guards).values():
            lock = self._choose(component)
            if lock.name is not None:
                domain = component[0].domain
                container = self._body_of(domain)
                if container is None:
                    for g in component:
                        self.refused[id(g)] = "cannot place a lock in a one-line class or function body"
                    continue
                body = list(container.body)
                anchors = dict.fromkeys(g.anchor or g.state for g in component)
                index = max(self._insert_index(domain, body, anchor) for anchor in anchors)
                defs.setdefault(id(container), []).append((index, f"{lock.name} = {self._factory(lock.kind)}"))
                self.inserted.lock_names.add(lock.name)
            for g in component:
                expr = self._expr_for(g, lock)
                if expr is None:
                    self.refused[id(g)] = "the lock is not reachable from this function"
                    continue
                for stmt in (g.stmt, *g.followers):
                    wraps[id(stmt)] = (expr, g)
                self.inserted.lock_exprs.add(expr)
                if g.replacement is not None:
                    self._substitution(g.stmt, g.replacement)
        for r in replaces:
            self._substitution(r.stmt, r.new)
        touched = [*(stmt for g in guards for stmt in (g.stmt, *g.followers) if id(stmt) in wraps), *(r.stmt for r in replaces)]
        touched += [self._body_of(g.domain) for g in guards if id(self._body_of(g.domain)) in defs]
        on_the_way = {id(node) for t in touched for node in (t, *self.ctx.ancestors(t))}
        applier = _Applier(wraps, {id(r.stmt): r.new for r in replaces}, defs, self.ctx.module, on_the_way)
        module = self.ctx.module.visit(applier)
        if self.needs_import:
            context = CodemodContext()
            AddImportsVisitor.add_needed_import(context, "threading")
            module = module.visit(_TopLevelImports(context))
        applied = {id(g) for g in guards if id(g.stmt) in wraps and id(g) not in self.refused}
        applied |= {id(r) for r in replaces} | self.covered
        return Outcome(module=module, inserted=self.inserted, applied=applied, refused=self.refused)

    def _substitution(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        code = self.ctx.module.code_for_node
        self.inserted.substitutions.append((_dedented(code(old)), _dedented(code(new))))


def _dedented(code: str) -> str:
    """A statement's code on its own, with its leading blank lines and comments kept harmless."""
    return textwrap.dedent(code)


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _import_block_end(body: list) -> int:
    """Where AddImportsVisitor puts new imports: after the docstring and leading imports."""
    i = 1 if body and _is_docstring(body[0]) else 0
    while i < len(body) and isinstance(body[i], cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in body[i].body
    ):
        i += 1
    return i


_STAND_IN = cst.SimpleStatementLine(body=[cst.Pass()])


class _TopLevelImports(AddImportsVisitor):
    """LibCST's AddImportsVisitor, kept to the module's top level, where it reads and adds
    imports: it does not enter function and class bodies (on a large module, entering them
    is most of a rewrite's cost), and it runs without ``transform_module``'s deep copy (it
    needs no metadata)."""

    def visit_Module(self, node: cst.Module) -> None:
        # What it gathers comes from the leading simple statements; bodies stay out.
        super().visit_Module(node.with_changes(body=[s if isinstance(s, cst.SimpleStatementLine) else _STAND_IN for s in node.body]))
        self._entered = {id(node), *(id(s) for s in node.body if isinstance(s, cst.SimpleStatementLine))}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Module) or id(node) in self._entered:
            return super().on_visit(node)
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            super().on_visit(node)  # leave_Import(From) may merge names into it
        return False


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

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self.on_the_way

    def _lock_item(self, expr: str) -> list[cst.WithItem]:
        return [cst.WithItem(item=cst.parse_expression(expr, config=self.config))]

    def _with(self, expr: str, stmts: list[cst.BaseStatement]) -> cst.With:
        first = stmts[0]
        inner = [first.with_changes(leading_lines=()), *stmts[1:]]
        return cst.With(items=self._lock_item(expr), body=cst.IndentedBlock(body=inner), leading_lines=first.leading_lines)

    def _double_checked(self, expr: str, stmt: cst.If) -> cst.If:
        inner = stmt.with_changes(leading_lines=())
        with_ = cst.With(items=self._lock_item(expr), body=cst.IndentedBlock(body=[inner]))
        return cst.If(
            test=stmt.test.deep_clone(),
            body=cst.IndentedBlock(body=[with_]),
            leading_lines=stmt.leading_lines,
            whitespace_before_test=stmt.whitespace_before_test,
            whitespace_after_test=stmt.whitespace_after_test,
        )

    def _rebuild(self, container: cst.CSTNode, original: tuple, updated: tuple) -> list:
        defs: dict[int, list[str]] = {}
        for index, code in self.defs.get(id(container), []):
            defs.setdefault(index, []).append(code)
        out = [cst.parse_statement(code + self.config.default_newline, config=self.config) for code in defs.get(-1, [])]
        i = 0
        while i < len(original):
            stmt = updated[i]
            if id(original[i]) in self.replaces:
                stmt = self.replaces[id(original[i])].with_changes(leading_lines=stmt.leading_lines)
            wrap = self.wraps.get(id(original[i]))
            last = i
            if wrap is None:
                out.append(stmt)
            else:
                expr, guard = wrap
                if guard.replacement is not None:
                    stmt = guard.replacement.with_changes(leading_lines=stmt.leading_lines)
                if guard.double_checked:
                    out.append(self._double_checked(expr, stmt))
                else:
                    group = [stmt]
                    while last + 1 < len(original):
                        nxt = self.wraps.get(id(original[last + 1]))
                        if nxt is None or nxt[0] != expr or nxt[1].double_checked or nxt[1].replacement is not None:
                            break
                        last += 1
                        group.append(updated[last])
                    out.append(self._with(expr, group))
            for k in range(i, last + 1):
                out += [cst.parse_statement(code + self.config.default_newline, config=self.config) for code in defs.get(k, [])]
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
        line = cst.SimpleStatementLine(body=updated_node.body)
        return cst.IndentedBlock(body=[self._with(wrap[0], [line])], header=updated_node.trailing_whitespace)


def apply_fixes(ctx: FileContext, guards: list[Guard], replaces: list[Replace], known: list[tuple[Guard, LockRef]]) -> Outcome:
    return LockPlanner(ctx, guards, replaces, known).run()
