"""What every rule needs to know about a module: scopes, positions, and existing locking.

``FileContext`` wraps one parsed module with LibCST metadata and answers the questions the
rules share: where does this statement run, is it already under a lock (and which), which
locks does a function hold, how is ``threading`` imported, which names are taken.

What counts as a lock *already held* (this docstring is the reference; rule docs point
here). It decides only that code is already locked and so not reported: recognising a
lock by its name is right there, since a miss costs a report, never working code. Which
existing object may *guard a fix* is a different, strict question, answered by
``ftmigrate.threadlocks`` (never by name), and instances count as shared between threads
only for a thread lock each instance carries (``instance_lock_attributes``).
- A lock object is a name or attribute that is
  - bound anywhere in the module to ``threading.Lock/RLock/Condition/Semaphore/
    BoundedSemaphore()`` (or ``multiprocessing``'s, ``_thread.allocate_lock()``, or the
    factory imported by name, ``from threading import Lock as _Lock``), whatever its name:
    ``guard = threading.RLock()``, ``self._mutex = Lock()`` in ``__init__``; or
  - *named* like a lock: its last word is ``lock``, ``rlock``, ``mutex``, ``mtx``, ``sem``,
    ``semaphore``, ``cond``, ``condition``, ``cv``, or a word ending in ``lock`` such as
    ``_instancelock`` (not ``block``, ``clock``, ``unlock``, ``deadlock``...). This covers
    locks imported from other modules (``from .sync import LOCK``) and passed in.
- It is held by code
  - in the body of ``with L:`` (also ``with L as x:`` and ``with a, L:``), for ``L`` like
    ``lock``, ``self._lock``, ``cls._lock``, ``Owner._lock``, ``self._cond``;
  - after ``L.acquire()`` and before ``L.release()`` in the same block, or after an earlier
    ``try`` whose ``finally`` calls ``L.release()``;
  - in the ``try`` body of a ``try/finally`` whose ``finally`` calls ``L.release()``, or a
    helper named like a lock release (``_releaseLock()``, ``_imp.release_lock()``): locked,
    by a lock that cannot be named (so never reused);
  - anywhere in a function decorated with a ``@synchronized``-style helper: a decorator (or
    decorator call) named with the word ``synchronized``, ``synchronised``, ``locked``,
    ``lock``, ``with_lock`` or ``serialized``;
  - anywhere in a private function or method (``_name``, not a dunder) whose every use in
    the module is a call (``_name(...)``, ``self._name(...)``) made while holding the same
    lock; callers may themselves be such helpers (``_read_unlocked`` under ``read()``'s
    ``with self._read_lock:``).
- Not held: code in a function or lambda *defined* under a lock (it runs later), code after
  a release, ``if L.acquire(timeout=...)`` bodies, a private helper also called without
  the lock, under another lock, or passed around (``pool.submit(self._work)``). ``with threading.Lock():`` creates a fresh
  lock on every call and so guards nothing.
- ``Condition``: holding it holds its lock. A ``Semaphore`` counts as a lock, although one
  created with a count above 1 lets several threads in.
- Reentrant (an ``RLock``, or a ``Condition()`` around one): only then may the fixer hold
  an existing (proven) lock across a call into code it cannot see (``is_reentrant_lock``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator, Sequence

import libcst as cst
import libcst.matchers as m
from libcst.metadata import CodeRange, MetadataWrapper, ScopeProvider

from ftmigrate.lockmakers import LOCK_FACTORIES, LOCK_MODULES, THREAD_MODULES  # noqa: F401 (rules import them from here)
from ftmigrate.treewalk import NodeMap, Positions, find_all, index, statement_positions, type_test, walk
from ftmigrate.treewalk import positions as code_ranges

_LOCK_WORDS = frozenset({"lock", "locks", "rlock", "mutex", "mtx", "sem", "semaphore", "cond", "condition", "cv"})
_NOT_LOCK_WORDS = frozenset({"block", "blocks", "clock", "clocks", "unlock", "deadlock", "flock", "blocklock"})
_DECORATOR_WORDS = frozenset({"synchronized", "synchronised", "locked", "lock", "with_lock", "serialized"})
# Decorators whose function gets the class as its first argument (Django's ``classproperty``).
CLASS_DECORATORS = frozenset({"classmethod", "classproperty", "class_property"})

# Builtins that never call back into user code when given builtin values; anything else
# called inside a guarded block makes the inserted lock an RLock.
SAFE_CALLS = frozenset(
    {
        "len", "abs", "min", "max", "sum", "int", "float", "str", "bool", "round", "isinstance",
        "issubclass", "tuple", "list", "set", "frozenset", "dict", "range", "ord", "chr", "divmod",
        "pow", "id", "type", "callable", "object", "bytes", "complex", "hex", "oct", "bin", "hash",
    }
)

_ACQUIRE = m.Call(func=m.Attribute(attr=m.Name("acquire")))

FUNCTION_BOUNDARY = (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)
# Code in these runs in a scope of its own: a function's own code stops at them.
NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Statements and what holds them: no expression contains one of these.
STATEMENT_LEVEL = (
    cst.BaseStatement, cst.BaseSmallStatement, cst.BaseSuite, cst.ExceptHandler, cst.ExceptStarHandler,
    cst.Else, cst.Finally, cst.MatchCase, cst.Module,
)
_is_statement_level = type_test(STATEMENT_LEVEL)


def _below_statements(node: cst.CSTNode) -> bool:
    return not _is_statement_level(node)


def _words(identifier: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", identifier)
    return [w for w in spaced.lower().split("_") if w]


def looks_like_lock_name(identifier: str) -> bool:
    """The name's last word says lock: ``_lock``, ``state_lock``, ``LOCK``, ``_instancelock``,
    ``mutex``, ``cv``; not ``lock_count`` or ``lock_identifiers`` (a lock's *count* or
    *names*), nor ``block``/``clock``."""
    words = _words(identifier)
    if not words:
        return False
    word = words[-1]
    return word in _LOCK_WORDS or (word.endswith("lock") and word not in _NOT_LOCK_WORDS and not word.endswith(("block", "clock")))


def dotted(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        inner = dotted(expr.value)
        return None if inner is None else f"{inner}.{expr.attr.value}"
    return None


def root_name(expr: cst.BaseExpression) -> str | None:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None


@dataclass(frozen=True)
class LockRef:
    """An existing lock seen in the code: ``expr`` as written, and how it is held."""

    code: str  # source of the lock expression, e.g. "self._lock"; "" for decorators
    kind: str  # "with" | "acquire" | "decorator"
    function: cst.FunctionDef | None = field(default=None, compare=False)


class FileContext:
    """A parsed module with the metadata and lock facts every rule uses.

    Metadata is computed on first use, with the fast walks of ``ftmigrate.treewalk``
    (same results as LibCST's providers). ``copy=False`` skips LibCST's defensive deep
    copy; the engine passes it for a module fresh from the parser (which shares no node).
    """

    def __init__(
        self, module: cst.Module, path: Path | None = None, shared_classes: Sequence[str] = (), *, copy: bool = True
    ) -> None:
        self.path = path
        _FUNCTION_NODES.clear()  # the previous file's trees can go
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=not copy)
        self.module = self.wrapper.module
        self.shared_classes = frozenset(shared_classes)
        self._scopes = None
        self._own_bindings: dict[cst.FunctionDef, set[str]] = {}  # cache of own_bindings
        self._located: Positions | dict = {}
        self.threading_aliases, self.threading_names = self._threading_imports()
        self.shared_reasons: dict[cst.ClassDef, str | None] = {}  # cache of shared_class_reason
        self.memo: dict[str, object] = {}  # answers other modules compute once per file (ftmigrate.threads)
        # Functions of this file that the project's threads run: qualified name -> why
        # (ftmigrate.project_index; set by the engine).
        self.project_threads: dict[str, str] = {}
        # Private functions the project calls only at import time: {name: "call"|"factory"}.
        self.project_import_time: dict[str, str] = {}
        # Local names that make a thread lock (a project's own wrapper or factory: ftmigrate.lockmakers).
        self.project_lock_makers: dict[str, str] = {}
        self._callers_locks: dict[cst.FunctionDef, LockRef | None] = {}  # cache of _callers_lock
        self._class_aliases: dict[cst.FunctionDef, dict[str, str]] = {}  # cache of class_aliases
        self.rule_cache: dict[str, dict] = {}  # per-file facts a rule computes once, by rule-chosen key

    @cached_property
    def _index(self) -> tuple[list[cst.CSTNode], NodeMap]:
        return index(self.module)

    @cached_property
    def _outline(self) -> tuple[list[cst.CSTNode], NodeMap]:
        # The statements alone (expressions and whitespace are listed, not entered): a
        # tenth of the nodes, and all that most questions about a module need.
        return index(self.module, prune=_below_statements)

    @property
    def nodes(self) -> list[cst.CSTNode]:
        """Every node of the module in pre-order (LibCST's visiting order)."""
        return self._index[0]

    @property
    def parents(self) -> NodeMap:
        return self._index[1]

    def find(self, kind: type | tuple[type, ...]) -> list[cst.CSTNode]:
        """The module's nodes of type ``kind`` in source order (like ``m.findall`` of a type)."""
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = type_test(kinds)
        statements_only = "_index" not in self.__dict__ and all(issubclass(k, STATEMENT_LEVEL) for k in kinds)
        return [node for node in (self._outline[0] if statements_only else self.nodes) if wanted(node)]

    @cached_property
    def positions(self) -> Positions:
        return code_ranges(self.module)

    @cached_property
    def identifiers(self) -> set[str]:
        """Every identifier the module uses (so inserted names collide with none)."""
        return {node.value for node in self.find(cst.Name)}

    @cached_property
    def assignments(self) -> list[tuple[cst.BaseExpression, cst.BaseExpression]]:
        """(target, value) of every assignment with a value, in source order."""
        return [pair for node in self.find((cst.Assign, cst.AnnAssign)) for pair in _assignments(node)]

    @cached_property
    def private_names(self) -> dict[str, list[cst.Name]]:
        """Every use of each ``_name`` (not dunders), in source order."""
        uses: dict[str, list[cst.Name]] = {}
        for node in self.find(cst.Name):
            if node.value.startswith("_") and not node.value.endswith("__"):
                uses.setdefault(node.value, []).append(node)
        return uses

    @cached_property
    def thread_handoffs(self) -> list[cst.Call]:
        """Calls that may hand a callable to a thread (``Thread(target=...)``, ``pool.submit``...)."""
        names = ("Thread", "Timer", *_POOL_METHODS)
        return [
            call for call in self.find(cst.Call)
            if _called_name(call) in names and m.matches(call, _THREAD_HANDOFF | _POOL_HANDOFF)
        ]

    @cached_property
    def _lock_bindings(self) -> dict[str, set[str]]:
        # name or attribute bound to a lock factory call -> the factories (Lock, RLock...)
        kinds: dict[str, set[str]] = {}
        for target, value in self.assignments:
            kind = self.lock_kind(value)
            if kind is not None:
                name = target.value if isinstance(target, cst.Name) else (
                    target.attr.value if isinstance(target, cst.Attribute) else None
                )
                if name:
                    kinds.setdefault(name, set()).add(kind)
        return kinds

    @cached_property
    def lock_identifiers(self) -> set[str]:
        """Names and attributes bound anywhere to a lock factory call (``threading.Lock()``...)."""
        return set(self._lock_bindings)

    @property
    def _lock_kinds(self) -> dict[str, set[str]]:
        return self._lock_bindings

    # --- metadata ---------------------------------------------------------------------
    @property
    def scopes(self):
        if self._scopes is None:
            self._scopes = self.wrapper.resolve(ScopeProvider)
        return self._scopes

    def position(self, node: cst.CSTNode) -> CodeRange:
        if "positions" not in self.__dict__ and node in self._located:
            return self._located[node]
        return self.positions[node]

    def locate(self, nodes: Sequence[cst.CSTNode], outline: tuple[list[int], int] | None = None) -> None:
        """Get ``position()`` of these nodes ready in one pass over the module that records
        only inside them (a full ``positions`` map costs several times more). With
        ``outline`` (``treewalk.statement_starts`` of the file's ``ast`` tree and its
        number of lines), only the top-level statements that hold the nodes are passed."""
        if "positions" in self.__dict__:
            return
        located = None
        if outline is not None and nodes:
            tops = {id(self._top_statement(node)) for node in nodes}
            located = statement_positions(self.module, nodes, tops, *outline)
        self._located = located if located is not None else code_ranges(self.module, targets=nodes)

    def _top_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        """The statement of ``module.body`` that holds ``node``."""
        top = node
        for ancestor in self.ancestors(node):
            if ancestor is self.module:
                break
            top = ancestor
        return top

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        if node is self.module:
            return None
        if "_index" not in self.__dict__ and node in self._outline[1]:
            return self._outline[1][node]  # a statement-level node, or an expression's root
        return self.parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        node = self.parent(node)
        while node is not None:
            yield node
            node = self.parent(node)

    def is_ancestor(self, ancestor: cst.CSTNode, node: cst.CSTNode) -> bool:
        return any(a is ancestor for a in self.ancestors(node))

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        for a in self.ancestors(node):
            if isinstance(a, cst.FunctionDef):
                return a
            if isinstance(a, (cst.ClassDef, cst.Lambda)):
                return None
        return None

    def enclosing_class(self, node: cst.CSTNode) -> cst.ClassDef | None:
        for a in self.ancestors(node):
            if isinstance(a, cst.ClassDef):
                return a
        return None

    def method_class(self, func: cst.FunctionDef) -> cst.ClassDef | None:
        """The class ``func`` is a method of (directly defined in its body), else None."""
        block = self.parent(func)
        owner = self.parent(block) if block is not None else None
        return owner if isinstance(owner, cst.ClassDef) else None

    def method_kind(self, func: cst.FunctionDef) -> str | None:
        """"instance", "class" or "static" for methods; None for plain functions."""
        if self.method_class(func) is None:
            return None
        names = {(dotted(d.decorator) or "").rsplit(".", 1)[-1] for d in func.decorators}
        if "staticmethod" in names:
            return "static"
        if names & CLASS_DECORATORS or func.name.value in ("__new__", "__init_subclass__", "__class_getitem__"):
            return "class"
        return "instance"

    def class_aliases(self, func: cst.FunctionDef) -> dict[str, str]:
        """Locals of an instance method that name the object's class, each with the code it
        is bound to: ``cls = self.__class__`` or ``cls = type(self)``, the name's only
        binding in the method (not a parameter, not ``global``/``nonlocal``). A fix reaches
        a class lock through that code (``self.__class__._lock``), bound wherever the method
        runs."""
        if func not in self._class_aliases:
            self._class_aliases[func] = self._find_class_aliases(func)
        return self._class_aliases[func]

    def _find_class_aliases(self, func: cst.FunctionDef) -> dict[str, str]:
        if self.method_kind(func) != "instance" or self.first_param(func) is None:
            return {}
        receiver = self.first_param(func)
        counts: dict[str, int] = {}
        aliases: dict[str, str] = {}
        for name, node in scope_bindings(func.body, skip=func):
            counts[name] = counts.get(name, 0) + 1
            parent = self.parent(node) if isinstance(node, cst.Name) else None
            assign = self.parent(parent) if isinstance(parent, cst.AssignTarget) else None
            if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and m.matches(
                assign.value,
                m.Attribute(value=m.Name(receiver), attr=m.Name("__class__"))
                | m.Call(func=m.Name("type"), args=[m.Arg(value=m.Name(receiver), keyword=None)]),
            ):
                aliases[name] = self.code(assign.value)
        params = parameter_names(func)
        declared = self.declared(func, cst.Global) | self.declared(func, cst.Nonlocal)
        return {name: code for name, code in aliases.items() if counts[name] == 1 and name not in params | declared}


    @staticmethod
    def first_param(func: cst.FunctionDef) -> str | None:
        params = list(func.params.posonly_params) + list(func.params.params)
        return params[0].name.value if params else None

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The statement line (or one-line suite, or compound statement) holding ``node``."""
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return node
        for a in self.ancestors(node):
            if isinstance(a, (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.BaseCompoundStatement)):
                return a
        raise ValueError("node is not inside a statement")

    def local_bindings(self, func: cst.FunctionDef) -> set[str]:
        """Names assigned in ``func``'s own scope (not those declared global or nonlocal):
        what LibCST's ``ScopeProvider`` records there, found by one walk of the function."""
        if func not in self._own_bindings:
            self._own_bindings[func] = own_bindings(func)
        return self._own_bindings[func] - self.declared(func, cst.Global) - self.declared(func, cst.Nonlocal)

    def declared(self, func: cst.FunctionDef, kind: type) -> set[str]:
        """Names a function declares ``global`` (kind=cst.Global) or ``nonlocal``."""
        return set(self._declarations.get((func, kind), ()))

    @cached_property
    def _declarations(self) -> dict[tuple[cst.FunctionDef, type], set[str]]:
        # Each global/nonlocal statement belongs to the function whose own code holds it
        # (the nearest enclosing function, unless a class or lambda comes first).
        found: dict[tuple[cst.FunctionDef, type], set[str]] = {}
        for statement in self.find((cst.Global, cst.Nonlocal)):
            owner = next(a for a in self.ancestors(statement) if isinstance(a, FUNCTION_BOUNDARY))
            if isinstance(owner, cst.FunctionDef):
                names = found.setdefault((owner, type(statement)), set())
                names.update(n.name.value for n in statement.names)
        return found

    @cached_property
    def global_bindings(self) -> dict[str, list[cst.CSTNode]]:
        """name -> the nodes binding it in the module's global scope, as LibCST's
        ``GlobalScope.assignments`` has them: module-level code, and the code of functions
        and classes that declare the name ``global``."""
        found: dict[str, list[cst.CSTNode]] = {}
        for name, node in scope_bindings(self.module):
            found.setdefault(name, []).append(node)
        declaring: dict[int, tuple[cst.CSTNode, set[str]]] = {}  # function or class -> its global names
        for statement in self.find(cst.Global):
            owner = next(a for a in self.ancestors(statement) if isinstance(a, FUNCTION_BOUNDARY))
            if not isinstance(owner, cst.Module):
                declaring.setdefault(id(owner), (owner, set()))[1].update(n.name.value for n in statement.names)
        for owner, declared in declaring.values():
            for name, node in scope_bindings(owner.body, skip=owner):
                if name in declared:
                    found.setdefault(name, []).append(node)
        return found

    def resolves_globally(self, func: cst.FunctionDef, name: str) -> bool:
        """Whether ``name`` used in ``func``'s own code means the module's global (LibCST's
        scope lookup: local, then enclosing functions, classes skipped, then global)."""
        scope: cst.CSTNode | None = func
        while isinstance(scope, cst.FunctionDef):
            if name in self.declared(scope, cst.Global):
                return True
            if name in self.local_bindings(scope):  # bound here, and not declared nonlocal
                return False
            scope = next((a for a in self.ancestors(scope) if isinstance(a, (cst.FunctionDef, cst.Lambda, cst.Module))), None)
        return isinstance(scope, cst.Module)

    def module_bindings(self) -> set[str]:
        names: set[str] = set()
        for stmt in self.module.body:
            names.update(top_level_bindings(stmt))
        return names

    # --- threading imports ------------------------------------------------------------
    def _threading_imports(self) -> tuple[list[str], dict[str, str]]:
        aliases: list[str] = []
        names: dict[str, str] = {}
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        if dotted(alias.name) == "threading":
                            aliases.append(alias.asname.name.value if alias.asname else "threading")
                elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                    if dotted(small.module) == "threading" and not isinstance(small.names, cst.ImportStar):
                        for alias in small.names:
                            local = alias.asname.name.value if alias.asname else alias.name.value
                            names[alias.name.value] = local
        return aliases, names

    def lock_kind(self, expr: cst.BaseExpression, modules: frozenset[str] = LOCK_MODULES) -> str | None:
        """``"RLock"`` for ``threading.RLock()`` (and a ``Condition()`` without a lock, which
        is reentrant), the factory's name for other lock factories of ``modules``, None for
        anything else."""
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        kind = None
        if isinstance(func, cst.Attribute) and func.attr.value in LOCK_FACTORIES:
            mod = dotted(func.value)
            if mod in modules or mod in self.threading_aliases:
                kind = func.attr.value
        elif isinstance(func, cst.Name):
            kind = next((f for f in LOCK_FACTORIES if self.threading_names.get(f) == func.value), None)
        if kind == "Condition" and not expr.args:
            return "RLock"
        return kind

    def is_lock_factory_call(self, expr: cst.BaseExpression) -> bool:
        return self.lock_kind(expr) is not None

    def is_reentrant_lock(self, code: str) -> bool:
        """True if the lock named by ``code`` (``_lock``, ``self._lock``) is only ever bound
        to an ``RLock``: taking it again on the same thread cannot deadlock."""
        return self._lock_kinds.get(code.rsplit(".", 1)[-1]) == {"RLock"}

    def call_sites(self, func: cst.FunctionDef) -> list[cst.CSTNode]:
        """Where this module may call ``func``: ``f(...)`` for a plain function, any ``x.f``
        for a method (a property is read without a call), and ``C(...)`` (``cls(...)``
        inside the class) for ``__new__``/``__init__`` of class ``C``."""
        name = func.name.value
        cls = self.method_class(func)
        if cls is None:
            return [c for c in self.find(cst.Call) if m.matches(c, m.Call(func=m.Name(name)))]
        if name in ("__new__", "__init__"):
            inside = find_all(cls, m.Call(func=m.Name("cls") | m.Call(func=m.Name("type"))))
            return [c for c in self.find(cst.Call) if m.matches(c, m.Call(func=m.Name(cls.name.value)))] + inside
        return [a for a in self.find(cst.Attribute) if m.matches(a, m.Attribute(attr=m.Name(name)))]

    # --- locks ------------------------------------------------------------------------
    def is_lock_expr(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            name = expr.value
        elif isinstance(expr, cst.Attribute):
            name = expr.attr.value
        else:
            return False  # e.g. `with threading.Lock():` guards nothing
        return name in self.lock_identifiers or looks_like_lock_name(name)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def guard_of(self, node: cst.CSTNode) -> LockRef | None:
        """The lock already held where ``node`` runs, if any (innermost first)."""
        return next(self.locks_held_at(node), None)

    def locks_held_at(self, node: cst.CSTNode, _callers_seen: frozenset = frozenset()) -> Iterator[LockRef]:
        """Every lock held where ``node`` runs inside its function, innermost first; last,
        for a private helper, the lock all its callers hold."""
        child = node
        for a in self.ancestors(node):
            if isinstance(a, cst.With):
                for item in a.items:
                    if self.is_lock_expr(item.item):
                        yield LockRef(self.code(item.item), "with", self.enclosing_function(a))
            elif isinstance(a, cst.Try) and child is a.body:
                for expr in _released_in(a.finalbody):
                    yield LockRef(self.code(expr), "acquire", self.enclosing_function(a))
                if _calls_lock_release_function(a.finalbody):
                    # `_acquireLock()` / try / finally `_releaseLock()`: locked, by a lock we cannot name.
                    yield LockRef("", "acquire", self.enclosing_function(a))
            elif isinstance(a, cst.IndentedBlock) or isinstance(a, cst.Module):
                held = self._acquired_before(a, child)
                if held is not None:
                    yield LockRef(self.code(held), "acquire", self.enclosing_function(a))
            elif isinstance(a, cst.FunctionDef):
                for dec in a.decorators:
                    target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
                    name = dotted(target) or ""
                    if any(w in _DECORATOR_WORDS for w in _words(name.rsplit(".", 1)[-1])) or name.rsplit(".", 1)[-1] in _DECORATOR_WORDS:
                        yield LockRef("", "decorator", a)
                        return
                callers = self._callers_lock(a, _callers_seen)
                if callers is not None:
                    yield callers
                return
            elif isinstance(a, (cst.ClassDef, cst.Lambda)):
                return
            child = a

    def _callers_lock(self, func: cst.FunctionDef, seen: frozenset) -> LockRef | None:
        """The lock every caller holds, for a private function or method (``_name``) that is
        used only by calling it, each time while holding the same lock."""
        if func in seen:
            return None  # a cycle of helpers: no caller from outside holds anything
        if not seen and func in self._callers_locks:
            return self._callers_locks[func]
        found = self._find_callers_lock(func, seen | {func})
        if not seen:
            self._callers_locks[func] = found
        return found

    def _find_callers_lock(self, func: cst.FunctionDef, seen: frozenset) -> LockRef | None:
        name = func.name.value
        if not name.startswith("_") or name.endswith("__"):
            return None
        held = None
        for ref in self.private_names.get(name, ()):
            if ref is func.name:
                continue
            parent = self.parent(ref)
            callee = parent if isinstance(parent, cst.Attribute) and parent.attr is ref else ref
            call = self.parent(callee)
            if not (isinstance(call, cst.Call) and call.func is callee):
                return None  # passed around, or another thing of that name: callers unknown
            lock = next(self.locks_held_at(call, seen), None)
            if lock is None or (held is not None and lock.code != held.code):
                return None
            held = lock
        return None if held is None else LockRef(held.code, "caller", func)

    def _acquired_before(self, block: cst.IndentedBlock | cst.Module, child: cst.CSTNode) -> cst.BaseExpression | None:
        """A lock acquired by an earlier statement of ``block`` and not yet released."""
        held: dict[str, cst.BaseExpression] = {}
        for stmt in block.body:
            if stmt is child:
                break
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    call = small.value if isinstance(small, cst.Expr) else None
                    if m.matches(call, m.Call(func=m.Attribute(attr=m.Name("acquire")))):
                        held[self.code(call.func.value)] = call.func.value
                    elif m.matches(call, m.Call(func=m.Attribute(attr=m.Name("release")))):
                        held.pop(self.code(call.func.value), None)
            elif isinstance(stmt, cst.Try):  # `L.acquire()` / `try: ... finally: L.release()`
                for expr in _released_in(stmt.finalbody):
                    held.pop(self.code(expr), None)
        return next(iter(held.values()), None)

    def held_locks(self, func: cst.FunctionDef) -> list[LockRef]:
        """Locks that ``func`` itself takes somewhere in its body: ``with L:`` or ``L.acquire()``."""
        found = []
        for node in iter_function_nodes(func):
            if isinstance(node, cst.With):
                for item in node.items:
                    if self.is_lock_expr(item.item):
                        found.append(LockRef(self.code(item.item), "with", func))
            elif m.matches(node, _ACQUIRE) and self.is_lock_expr(node.func.value):
                found.append(LockRef(self.code(node.func.value), "acquire", func))
        return found

    def called_while_holding(self, func: cst.FunctionDef, lock_code: str) -> cst.CSTNode | None:
        """A call of ``func`` in this module made while this lock is held (compared by its
        last name: ``self._lock`` matches ``_lock``), else None.

        Then taking the same lock inside ``func`` would deadlock, unless it is only ever an
        ``RLock``. Calls are those of ``call_sites``; the lock may be held by ``with``,
        ``acquire()``/``release()`` or ``try``/``finally``, in any enclosing block. A lock
        each instance has (``self._lock`` set in ``__init__``) only counts when the method
        is called on the object holding it (``self.get()``, not ``self._data.get()``).
        """
        wanted = lock_code.rsplit(".", 1)[-1]
        if self.is_reentrant_lock(wanted):
            return None
        cls = self.method_class(func)
        per_instance = cls is not None and wanted in self.class_lock_attrs(cls)[1]
        for call in self.call_sites(func):
            for held in self.locks_held_at(call):
                if not held.code or held.code.rsplit(".", 1)[-1] != wanted:
                    continue
                if per_instance and isinstance(call, cst.Attribute) and "." in held.code:
                    # `self._data.get()` under `self._lock` takes another object's own lock.
                    if self.code(call.value) != held.code.rsplit(".", 1)[0]:
                        continue
                return call
        return None

    def class_lock_attrs(self, cls: cst.ClassDef) -> tuple[list[str], list[str]]:
        """Lock attributes of ``cls``: (class-level, instance-level), in source order."""
        class_level, instance_level = [], []
        body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    for target, value in _assignments(small):
                        if isinstance(target, cst.Name) and (
                            self.is_lock_factory_call(value) or (looks_like_lock_name(target.value) and isinstance(value, cst.Call))
                        ):
                            class_level.append(target.value)
            elif isinstance(stmt, cst.FunctionDef) and self.method_kind(stmt) == "instance":
                receiver = self.first_param(stmt)
                for node in iter_function_nodes(stmt):
                    for target, value in _assignments(node):
                        if (
                            m.matches(target, m.Attribute(value=m.Name(receiver)))
                            and (self.is_lock_factory_call(value) or (looks_like_lock_name(target.attr.value) and isinstance(value, cst.Call)))
                            and target.attr.value not in instance_level
                        ):
                            instance_level.append(target.attr.value)
        return class_level, instance_level


def _assignments(node: cst.CSTNode) -> list[tuple[cst.BaseExpression, cst.BaseExpression]]:
    if isinstance(node, cst.Assign):
        return [(t.target, node.value) for t in node.targets]
    if isinstance(node, cst.AnnAssign) and node.value is not None:
        return [(node.target, node.value)]
    return []


def _released_in(finalbody: cst.Finally | None) -> list[cst.BaseExpression]:
    if finalbody is None:
        return []
    released = []
    for stmt in finalbody.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Expr) and m.matches(small.value, m.Call(func=m.Attribute(attr=m.Name("release")))):
                    released.append(small.value.func.value)
    return released


def _calls_lock_release_function(finalbody: cst.Finally | None) -> bool:
    """The ``finally`` calls a helper that releases a lock: ``_releaseLock()``, ``_imp.release_lock()``."""
    if finalbody is None:
        return False
    for call in find_all(finalbody, m.Call(func=m.Name() | m.Attribute())):
        name = call.func.value if isinstance(call.func, cst.Name) else call.func.attr.value
        if "release" in _words(name) and looks_like_lock_name(name):
            return True
    return False


# iter_function_nodes of the functions of the file being checked: every rule walks the same
# functions. Keyed by id, checked by identity; FileContext empties it for each new file.
_FUNCTION_NODES: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]] = {}


def iter_function_nodes(func: cst.CSTNode) -> list[cst.CSTNode]:
    """Every node of ``func``'s body, not descending into nested functions or classes (a
    list shared between callers: do not change it)."""
    known = _FUNCTION_NODES.get(id(func))
    if known is not None and known[0] is func:
        return known[1]
    nodes = walk(func.body, prune=NESTED_SCOPES)
    _FUNCTION_NODES[id(func)] = (func, nodes)
    return nodes


# What a scope's own code is: nested functions, classes, lambdas and comprehensions have
# their own scopes (LibCST puts a walrus inside a comprehension in the comprehension's).
_OWN_SCOPE_PRUNE = (*NESTED_SCOPES, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def scope_bindings(root: cst.CSTNode, skip: cst.CSTNode | None = None) -> Iterator[tuple[str, cst.CSTNode]]:
    """(name, node) for every binding the scope whose own code is ``root`` gets, as LibCST's
    ``ScopeProvider`` records them, node and all: the ``Name`` of an assignment, ``for``,
    ``with ... as``, ``except ... as`` or walrus target (``x: int`` alone included); the
    ``Import``/``ImportFrom`` (``import a.b`` binds ``a.b`` and ``a``); a nested
    ``FunctionDef``/``ClassDef`` (not ``skip``). Not comprehension variables (their own
    scope), nor ``match`` captures and walrus targets inside comprehensions (which LibCST
    does not record there)."""
    for node in walk(root, prune=_OWN_SCOPE_PRUNE):
        kind = type(node)
        if kind is cst.Assign:
            for target in node.targets:
                yield from _bound_names(target.target)
        elif kind in (cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr):
            yield from _bound_names(node.target)
        elif kind is cst.WithItem or kind is cst.ExceptHandler or kind is cst.ExceptStarHandler:
            alias = node.asname if kind is cst.WithItem else node.name
            if alias is not None:
                yield from _bound_names(alias.name)
        elif kind is cst.Import:
            for alias in node.names:
                if alias.asname is not None:
                    yield from ((name, node) for name, _ in _bound_names(alias.asname.name))
                    continue
                name = alias.name
                while isinstance(name, cst.Attribute):
                    yield dotted(name), node
                    name = name.value
                yield name.value, node
        elif kind is cst.ImportFrom and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                yield (alias.asname.name.value if alias.asname is not None else alias.name.value), node
        elif (kind is cst.FunctionDef or kind is cst.ClassDef) and node is not skip:
            yield node.name.value, node


def own_bindings(func: cst.FunctionDef, params: bool = True) -> set[str]:
    """Every name ``func``'s own scope binds (``scope_bindings`` of its body), parameters
    included unless ``params=False`` (a parameter assigned again still counts). ``global``/
    ``nonlocal`` declarations are the caller's to subtract."""
    names = {name for name, _ in scope_bindings(func.body, skip=func)}
    return names | parameter_names(func) if params else names


def parameter_names(func: cst.FunctionDef) -> set[str]:
    every = func.params
    names = {p.name.value for p in (*every.posonly_params, *every.params, *every.kwonly_params)}
    return names | {p.name.value for p in (every.star_arg, every.star_kwarg) if isinstance(p, cst.Param)}


def _bound_names(target: cst.BaseExpression) -> Iterator[tuple[str, cst.Name]]:
    if isinstance(target, cst.Name):
        yield target.value, target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _bound_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _bound_names(target.value)


def top_level_bindings(stmt: cst.CSTNode) -> set[str]:
    """Names a module-, class- or function-body statement binds in that body's scope."""
    names: set[str] = set()
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        return {stmt.name.value}
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        names.add(alias.asname.name.value)
                    else:
                        names.add((dotted(alias.name) or "").split(".")[0])
            for target, _ in _assignments(small):
                names.update(_target_names(target))
            if isinstance(small, cst.AugAssign):
                names.update(_target_names(small.target))
        return names
    if isinstance(stmt, cst.BaseCompoundStatement):
        for child in _child_statements(stmt):
            names.update(top_level_bindings(child))
        if isinstance(stmt, cst.For):
            names.update(_target_names(stmt.target))
    return names


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        out: set[str] = set()
        for el in target.elements:
            out |= _target_names(el.value)
        return out
    return set()


def _child_statements(stmt: cst.BaseCompoundStatement) -> list[cst.CSTNode]:
    """Statements nested in a compound statement's blocks (if/else, try/except, for, while,
    with, match)."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        return []
    out: list[cst.CSTNode] = []
    blocks: list[cst.BaseSuite] = [case.body for case in stmt.cases] if isinstance(stmt, cst.Match) else [stmt.body]
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:
        blocks.append(orelse.body)
        orelse = getattr(orelse, "orelse", None) if isinstance(orelse, cst.If) else None
    if isinstance(stmt, (cst.Try, cst.TryStar)):
        blocks += [h.body for h in stmt.handlers]
        if stmt.finalbody is not None:
            blocks.append(stmt.finalbody.body)
    for block in blocks:
        if isinstance(block, cst.IndentedBlock):
            out.extend(block.body)
    return out


def calls_unknown_code(node: cst.CSTNode, safe_receivers: frozenset[str] = frozenset()) -> bool:
    """True if ``node`` calls anything but safe builtins or methods of ``safe_receivers``."""
    for call in walk(node):
        if not isinstance(call, cst.Call):
            continue
        func = call.func
        if isinstance(func, cst.Name) and func.value in SAFE_CALLS:
            continue
        if isinstance(func, cst.Attribute) and dotted(func.value) in safe_receivers:
            continue
        return True
    return False


def binop_operands(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """Operands of a chain like ``x + a - b`` (left-nested), plus the right-hand ones."""
    while isinstance(expr, cst.BinaryOperation):
        yield expr.right
        expr = expr.left
    yield expr


def return_after(ctx: FileContext, stmt: cst.CSTNode, reads: m.BaseMatcherNode) -> tuple[cst.CSTNode, ...]:
    """``return count`` right after ``count += 1`` (``reads`` matches something it returns):
    returning the value read under the lock is what makes a counter usable as an id
    generator, so it joins the critical section."""
    block = ctx.parent(stmt)
    if not isinstance(block, cst.IndentedBlock):
        return ()
    index = next(i for i, s in enumerate(block.body) if s is stmt)
    following = block.body[index + 1] if index + 1 < len(block.body) else None
    if m.matches(following, m.SimpleStatementLine(body=[m.Return(value=m.MatchIfTrue(lambda v: v is not None))])):
        if find_all(following, reads):
            return (following,)
    return ()


def suspends(node: cst.CSTNode) -> bool:
    """``await``/``yield`` inside: holding a threading lock across it could deadlock."""
    return any(isinstance(n, (cst.Await, cst.Yield)) for n in walk(node))


_THREAD_HANDOFF = m.Call(func=m.Name("Thread") | m.Attribute(attr=m.Name("Thread")) | m.Name("Timer") | m.Attribute(attr=m.Name("Timer")))
_POOL_METHODS = ("submit", "map", "apply_async", "map_async", "imap", "imap_unordered", "start_new_thread")
_POOL_HANDOFF = m.Call(func=m.Attribute(attr=m.OneOf(*map(m.Name, _POOL_METHODS))))


def _called_name(call: cst.Call) -> str | None:
    """``f`` of ``f(...)`` or ``x.f(...)``."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def shared_class_reason(ctx: FileContext, cls: cst.ClassDef) -> str | None:
    """Why instances of ``cls`` are shared between threads, or None if nothing says so.

    Evidence, in order: named in config (``shared-classes``); its instances have a thread
    lock attribute (``instance_lock_attributes``); it
    subclasses ``threading.Thread``; one of its methods is handed to a thread or an executor
    in this module (``Thread(target=obj.run)``, ``pool.submit(obj.step)``, ``pool.map(obj.f, …)``)
    where ``obj`` is ``self`` inside the class or a name bound to ``ClassName(...)``; the rest
    of ``shared_by_design`` (a thread-safe queue, its documentation, a base class).
    """
    if cls not in ctx.shared_reasons:
        ctx.shared_reasons[cls] = _shared_class_reason(ctx, cls)
    return ctx.shared_reasons[cls]


def _shared_class_reason(ctx: FileContext, cls: cst.ClassDef) -> str | None:
    name = cls.name.value
    if name in ctx.shared_classes:
        return "listed in shared-classes"
    if instance_lock_attributes(ctx, cls):
        return "its instances have a thread lock attribute"
    if is_thread_subclass(ctx, cls):
        return "it subclasses threading.Thread"
    for method in thread_entry_methods(ctx, cls):
        return f"its method {method}() is run by threads"
    return shared_by_design(ctx, cls)


def shared_by_design(ctx: FileContext, cls: cst.ClassDef, _seen: frozenset = frozenset()) -> str | None:
    """Why the class's own code says its instances are meant for several threads, or None:
    each instance gets a thread lock (``instance_lock_attributes``); it keeps a thread-safe
    ``queue`` queue (``queue.LifoQueue``, also named as a class attribute ``QueueCls =
    queue.LifoQueue``); its docstring, or a method's, says it is thread-safe or shared
    between threads (not "not thread-safe"); or a class of this module it derives from, and
    whose ``__init__`` it runs, says so. The evidence is the author's intent, not a proof
    that threads share one."""
    if instance_lock_attributes(ctx, cls):
        return "its instances have a thread lock attribute"
    member = thread_safe_member(ctx, cls)
    if member is not None:
        return f"it keeps a thread-safe `{member}`"
    said = says_thread_safe(cls)
    if said is not None:
        return f"its documentation says \"{said}\""
    for base in cls.bases:
        named = next((s for s in ctx.module.body if isinstance(s, cst.ClassDef) and m.matches(base.value, m.Name(s.name.value))), None)
        if named is not None and named is not cls and named not in _seen and _runs_base_init(cls, named.name.value):
            reason = shared_by_design(ctx, named, _seen | {cls})
            if reason is not None:
                return f"it derives from `{named.name.value}`: {reason}"
    return None


def _runs_base_init(cls: cst.ClassDef, base: str) -> bool:
    """Instances of ``cls`` are set up by ``base.__init__`` too: ``cls`` has no ``__init__``
    of its own, or its ``__init__`` calls ``super().__init__`` or ``base.__init__``."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    init = next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
    if init is None:
        return True
    calls = m.Call(func=m.Attribute(value=m.Call(func=m.Name("super")) | m.Name(base), attr=m.Name("__init__")))
    return bool(find_all(init, calls))


# Queues made for several threads to use at once: owning one says the object is shared
# (a ``threading.Event`` does not: one thread often just signals the object's own thread).
THREAD_SAFE_TYPES = {"queue": frozenset({"Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"})}


def thread_safe_member(ctx: FileContext, cls: cst.ClassDef) -> str | None:
    """``queue.LifoQueue`` when the class binds a class attribute, or an attribute of a
    method's ``self``, to a ``queue`` queue type or a call of one."""
    modules = _module_aliases(ctx)
    for node in walk(cls.body):
        for target, value in _assignments(node):
            if not isinstance(target, (cst.Name, cst.Attribute)):
                continue
            made = value.func if isinstance(value, cst.Call) else value
            spelled = dotted(made) or ""
            module, _, name = spelled.rpartition(".")
            real = modules.get(module) if module else modules.get(f".{name}")
            if real is not None and name in THREAD_SAFE_TYPES.get(real, ()):
                return f"{real}.{name}"
    return None


def _module_aliases(ctx: FileContext) -> dict[str, str]:
    """How the module names ``queue``: ``{"queue": "queue", ".LifoQueue": "queue"}`` (a
    leading dot: a name imported from the module)."""
    found: dict[str, str] = {}
    for stmt in ctx.module.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if dotted(alias.name) in THREAD_SAFE_TYPES:
                        found[alias.asname.name.value if alias.asname else dotted(alias.name)] = dotted(alias.name)
            elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                module = dotted(small.module)
                if module in THREAD_SAFE_TYPES and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        local = alias.asname.name.value if alias.asname else alias.name.value
                        if alias.name.value == local:
                            found[f".{local}"] = module
    return found


# "X is thread-safe", "Topology is shared among multiple threads": the affirmative forms only.
_SAYS_SHARED = re.compile(
    r"\b(?:is|are)\s+(?:(?P<word>\w+)\s+)?(?P<said>thread[- ]?safe|shared\s+(?:between|among|across|by)\s+"
    r"(?:multiple\s+|several\s+|many\s+|all\s+|different\s+)?threads)\b",
    re.IGNORECASE,
)
# A sentence with one of these says "not", or only under a condition: no evidence.
_HEDGED = re.compile(r"\b(?:not|never|no|only|unless|nor|if|while|except)\b|n't\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def says_thread_safe(cls: cst.ClassDef) -> str | None:
    """The words of the class's docstring, or one of its methods', that say in a plain
    sentence that it is thread-safe or shared between threads ("This class is
    thread-safe.", "Topology is shared among multiple threads and is protected by a
    lock."); not a sentence that says "not", "only", "unless", "if" ("The Connection is
    **not** thread-safe", "the only thread-safe method", "can be shared among threads")."""
    bodies = [cls] + [s for s in (cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()) if isinstance(s, cst.FunctionDef)]
    for owner in bodies:
        doc = owner.get_docstring(clean=False) if isinstance(owner.body, cst.IndentedBlock) else None
        for sentence in _SENTENCE_END.split(doc or ""):
            found = _SAYS_SHARED.search(sentence)
            if found is not None and not _HEDGED.search(sentence):
                return " ".join(found.group("said").split())
    return None


def instance_lock_attributes(ctx: FileContext, cls: cst.ClassDef) -> list[str]:
    """Attributes that a method of ``cls`` binds, through its ``self``, to a ``threading``
    lock factory call, or a call of the project's own lock maker (``_project_lock``): each instance carries its own thread lock, which says its methods
    are meant to be called from several threads. Class-level locks do not say that (they
    guard class state, and they are what ``apply`` adds, so they are never evidence:
    ``apply`` then finds exactly what ``scan`` showed). Only ``threading`` factories count:
    an ``asyncio.Lock`` says coroutines share the object, not threads."""
    found: list[str] = []
    for stmt in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
        if isinstance(stmt, cst.FunctionDef) and ctx.method_kind(stmt) == "instance":
            receiver = ctx.first_param(stmt)
            for node in iter_function_nodes(stmt):
                for target, value in _assignments(node):
                    if (
                        isinstance(target, cst.Attribute)
                        and dotted(target.value) == receiver
                        and (ctx.lock_kind(value, THREAD_MODULES) is not None or _project_lock(ctx, target.attr.value, value))
                        and target.attr.value not in found
                    ):
                        found.append(target.attr.value)
    return found


def _project_lock(ctx: FileContext, attr: str, value: cst.BaseExpression) -> bool:
    """``self._state_lock = Lock()`` where ``Lock`` is the project's own thread-lock maker
    (``ftmigrate.lockmakers``), and the attribute or the maker is named like a lock."""
    return (
        isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in ctx.project_lock_makers
        and (looks_like_lock_name(attr) or looks_like_lock_name(value.func.value))
    )


def is_thread_subclass(ctx: FileContext, cls: cst.ClassDef) -> bool:
    for base in cls.bases:
        target = dotted(base.value) or ""
        if target in ("threading.Thread", *(f"{a}.Thread" for a in ctx.threading_aliases)) or (
            target and target == ctx.threading_names.get("Thread")
        ):
            return True
    return False


_REPEATING = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


def thread_entry_methods(ctx: FileContext, cls: cst.ClassDef) -> dict[str, bool]:
    """Methods of ``cls`` handed to a thread or an executor in this module, each mapped to
    whether several threads may run it at once: handed to a pool, or to ``Thread``s created
    in a loop or comprehension. A method is handed over as ``obj.method`` where ``obj`` is
    ``self`` inside the class or a name bound to ``ClassName(...)``."""
    methods = {
        s.name.value for s in (cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()) if isinstance(s, cst.FunctionDef)
    }
    instances = {"self"} | _names_bound_to_call_of(ctx, cls.name.value)
    entries: dict[str, bool] = {}
    for call, expr, pool in handed_to_threads(ctx):
        if (
            isinstance(expr, cst.Attribute)
            and expr.attr.value in methods
            and isinstance(expr.value, cst.Name)
            and expr.value.value in instances
            and (expr.value.value != "self" or ctx.enclosing_class(call) is cls)
        ):
            repeated = pool or any(isinstance(a, _REPEATING) for a in _up_to_function(ctx, call))
            entries[expr.attr.value] = entries.get(expr.attr.value, False) or repeated
    return entries


def handed_to_threads(ctx: FileContext) -> list[tuple[cst.Call, cst.BaseExpression, bool]]:
    """Every callable handed to a thread or an executor in the module: (the call, the
    callable's expression, whether it went to a pool). ``Thread(target=f)``,
    ``Timer(t, f)``, ``pool.submit(f, ...)``, ``pool.map(f, ...)``, ``start_new_thread(f, ...)``."""
    handed = []
    for call in ctx.thread_handoffs:
        args = list(call.args)
        candidates = [a.value for a in args if a.keyword is not None and a.keyword.value == "target"]
        pool = m.matches(call, _POOL_HANDOFF)
        if pool:
            candidates += [a.value for a in args[:1] if a.keyword is None]
        elif m.matches(call.func, m.Name("Timer") | m.Attribute(attr=m.Name("Timer"))):
            candidates += [a.value for a in args[1:2] if a.keyword is None]
        handed += [(call, expr, pool) for expr in candidates]
    return handed


def _up_to_function(ctx: FileContext, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for a in ctx.ancestors(node):
        if isinstance(a, FUNCTION_BOUNDARY):
            return
        yield a


def _names_bound_to_call_of(ctx: FileContext, class_name: str) -> set[str]:
    """Names assigned ``ClassName(...)`` anywhere in the module."""
    return {
        target.value
        for target, value in ctx.assignments
        if isinstance(target, cst.Name) and m.matches(value, m.Call(func=m.Name(class_name)))
    }


def _resolve_call(ctx: FileContext, call: cst.Call, caller: cst.FunctionDef | None) -> cst.FunctionDef | None:
    """The function of this module a call runs, when it can be told: ``helper()`` (a
    module-level function), ``self.method()`` / ``cls.method()`` from a method, or
    ``ClassName.method()``."""
    func = call.func
    if isinstance(func, cst.Name):
        return next((s for s in ctx.module.body if isinstance(s, cst.FunctionDef) and s.name.value == func.value), None)
    if not m.matches(func, m.Attribute(value=m.Name())):
        return None
    receiver, name = func.value.value, func.attr.value
    cls = None
    if caller is not None and ctx.method_class(caller) is not None and ctx.first_param(caller) == receiver:
        cls = ctx.method_class(caller)
    else:
        cls = next((s for s in ctx.module.body if isinstance(s, cst.ClassDef) and s.name.value == receiver), None)
    if cls is None or not isinstance(cls.body, cst.IndentedBlock):
        return None
    return next((s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def called_functions(ctx: FileContext, stmts: Sequence[cst.CSTNode], caller: cst.FunctionDef | None) -> list[cst.FunctionDef]:
    """Functions of this module that ``stmts`` call, directly or through each other."""
    found: list[cst.FunctionDef] = []
    work = [(stmt, caller) for stmt in stmts]
    while work:
        node, context = work.pop()
        for call in find_all(node, m.Call()):
            callee = _resolve_call(ctx, call, context)
            if callee is not None and all(callee is not f for f in found):
                found.append(callee)
                work.append((callee.body, callee))
    return found

