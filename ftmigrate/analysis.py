"""What every rule needs to know about a module, on the standard ``ast``: navigation,
bindings, and existing locking.

``FileContext`` wraps one parsed module (its ``ast`` tree and its source text) and answers
the questions the rules share: where does this statement run, is it already under a lock
(and which), which locks does a function hold, how is ``threading`` imported, which names
are taken. What counts as a lock *already held* is documented in ``ftmigrate.heldlocks``
(the reference; rule docs point there): a lock object is a name or attribute bound anywhere
in the module to a lock factory call (``lock_kind``), or *named* like a lock
(``looks_like_lock_name``); ``Condition()`` without a lock and ``RLock()`` are reentrant
(``is_reentrant_lock``).

ast has no parent links, no comments and no parentheses: ``FileContext`` keeps a parent
map (``parent``), where each statement sits in its block (``block_of``), the text and its
lines (``code`` gives a node's source as written, its own parentheses included, as
LibCST's ``code_for_node`` does).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path

from ftmigrate.astwalk import (  # noqa: F401 (the rules import these from here)
    _FUNCTION_NODES,
    _GETTERS,
    FUNCTION_BOUNDARY,
    FUNCTION_DEFS,
    FUNCTIONS,
    NESTED_SCOPES,
    Function,
    any_in,
    children,
    find_in,
    iter_function_nodes,
    walk,
)
from ftmigrate.bindings import (  # noqa: F401 (the rules import these from here)
    _DECORATOR_WORDS,
    check_text_of,
    CLASS_DECORATORS,
    LOCK_FACTORIES,
    LOCK_MODULES,
    POOL_METHODS,
    SAFE_CALLS,
    THREAD_MODULES,
    THREAD_SAFE_TYPES,
    _assignments,
    _words,
    binop_operands,
    call_arguments,
    calls_unknown_code,
    decorated_method_kind,
    dotted,
    identifier_nodes,
    identifiers_of,
    indented,
    looks_like_lock_name,
    own_bindings,
    parameter_names,
    parameters,
    root_name,
    scope_bindings,
    suspends,
    top_level_bindings,
)
from ftmigrate.fixes import LockRef
from ftmigrate.lockfacts import LockFacts
from ftmigrate.scopes import ScopeFacts
from ftmigrate.sourcetext import SourceText

_HANDOFF_NAMES = frozenset({"Thread", "Timer", *POOL_METHODS})
# Statement lists of a block: (owner, field) where statements live.
_BLOCK_FIELDS = ("body", "orelse", "finalbody")
_BLOCK_OWNERS = frozenset({
    ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
    ast.With, ast.AsyncWith, ast.Try, getattr(ast, "TryStar", ast.Try), ast.ExceptHandler, ast.match_case,
})


class FileContext(ScopeFacts, LockFacts):
    """A parsed module (``ast``) and its text, with the facts every rule uses (its scopes:
    ``ftmigrate.scopes``; its locks: ``ftmigrate.lockfacts``).

    Navigation comes from one walk of the tree (``nodes``, in source order, each node's
    parent and each statement's place in its block), made on first use."""

    def __init__(self, tree: ast.Module, text: str, path: Path | None = None, shared_classes: Sequence[str] = ()) -> None:
        self.path = path
        _FUNCTION_NODES.clear()  # the previous file's trees can go
        self.tree = self.module = tree
        self.source = SourceText(text)
        check_text_of(self.source)
        self.text = text
        self.shared_classes = frozenset(shared_classes)
        self._own_bindings: dict[ast.AST, set[str]] = {}  # cache of own_bindings
        self._found: dict[object, list[ast.AST]] = {}  # cache of find
        self.threading_aliases, self.threading_names = self._threading_imports()
        self.shared_reasons: dict[ast.ClassDef, str | None] = {}  # cache of shared_class_reason
        self.memo: dict[str, object] = {}  # answers other modules compute once per file (ftmigrate.threads)
        # Functions of this file that the project's threads run: qualified name -> why
        # (ftmigrate.project_index; set by the engine).
        self.project_threads: dict[str, str] = {}
        # Private functions the project calls only at import time: {name: "call"|"factory"}.
        self.project_import_time: dict[str, str] = {}
        # Local names that make a thread lock (a project's own wrapper or factory: ftmigrate.lockmakers).
        self.project_lock_makers: dict[str, str] = {}
        self._callers_locks: dict[ast.AST, LockRef | None] = {}  # cache of heldlocks's callers' lock
        self._class_aliases: dict[ast.AST, dict[str, str]] = {}  # cache of class_aliases
        self._class_locks: dict[ast.ClassDef, tuple[list[str], list[str]]] = {}  # cache of class_lock_attrs
        self.rule_cache: dict[str, dict] = {}  # per-file facts a rule computes once, by rule-chosen key

    @property
    def lines(self) -> list[str]:
        """The text's lines without their line ends (``lines[0]`` is line 1), split where
        Python's tokenizer splits them (``\\n``, ``\\r\\n``, ``\\r``)."""
        return self.source.lines

    # --- navigation ---------------------------------------------------------------------
    @cached_property
    def _index(self) -> tuple[list[ast.AST], dict[ast.AST, ast.AST], dict[ast.stmt, tuple[ast.AST, str, int]]]:
        nodes: list[ast.AST] = []
        parents: dict[ast.AST, ast.AST] = {}
        blocks: dict[ast.stmt, tuple[ast.AST, str, int]] = {}
        getters = _GETTERS
        stack: list[ast.AST] = [self.tree]
        pop, push, record = stack.pop, stack.extend, nodes.append
        while stack:
            node = pop()
            record(node)
            kind = type(node)
            below = (getters.get(kind) or children)(node)
            if below:
                for child in below:
                    parents[child] = node
                push(reversed(below))
            if kind in _BLOCK_OWNERS:
                for name in _BLOCK_FIELDS:
                    for i, stmt in enumerate(getattr(node, name, ())):
                        blocks[stmt] = (node, name, i)
        return nodes, parents, blocks

    @property
    def nodes(self) -> list[ast.AST]:
        """Every node of the module in pre-order and source order (do not change the list)."""
        return self._index[0]

    @property
    def parents(self) -> dict[ast.AST, ast.AST]:
        return self._index[1]

    def find(self, kind: type | tuple[type, ...]) -> list[ast.AST]:
        """The module's nodes of type ``kind`` in source order (a new list each call)."""
        found = self._found.get(kind)
        if found is None:
            found = self._found[kind] = [node for node in self.nodes if isinstance(node, kind)]
        return list(found)

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._index[1].get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        parents = self._index[1]
        node = parents.get(node)
        while node is not None:
            yield node
            node = parents.get(node)

    def is_ancestor(self, ancestor: ast.AST, node: ast.AST) -> bool:
        return any(a is ancestor for a in self.ancestors(node))

    def block_of(self, stmt: ast.stmt) -> tuple[ast.AST, str, int]:
        """Where ``stmt`` sits: (the node owning the statement list, the list's field name
        — ``body``, ``orelse`` or ``finalbody``; an ``except``/``case`` block's owner is its
        ``ExceptHandler``/``match_case`` — and its index there). The block is
        ``getattr(owner, field)``."""
        return self._index[2][stmt]

    def statement_of(self, node: ast.AST) -> ast.stmt:
        """The innermost statement holding ``node`` (``node`` itself if it is one)."""
        if isinstance(node, ast.stmt):
            return node
        for a in self.ancestors(node):
            if isinstance(a, ast.stmt):
                return a
        raise ValueError("node is not inside a statement")

    def is_elif(self, stmt: ast.AST) -> bool:
        """``stmt`` is the ``if`` of an ``elif`` (LibCST's If in an If's ``orelse``; ast
        writes ``elif`` and ``else:`` + ``if`` alike: the text tells)."""
        return (
            isinstance(stmt, ast.If) and isinstance(self.parent(stmt), ast.If)
            and self.text.startswith("elif", self.source.offset(stmt.lineno, stmt.col_offset))
        )

    def enclosing_function(self, node: ast.AST) -> Function | None:
        for a in self.ancestors(node):
            if isinstance(a, FUNCTIONS):
                return a
            if isinstance(a, (ast.ClassDef, ast.Lambda)):
                return None
        return None

    def enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        for a in self.ancestors(node):
            if isinstance(a, ast.ClassDef):
                return a
        return None

    def method_class(self, func: Function) -> ast.ClassDef | None:
        """The class ``func`` is a method of (directly defined in its body), else None."""
        owner = self.parent(func)
        return owner if isinstance(owner, ast.ClassDef) else None

    def method_kind(self, func: Function) -> str | None:
        """"instance", "class" or "static" for methods (``decorated_method_kind``); None for
        plain functions."""
        if self.method_class(func) is None:
            return None
        return decorated_method_kind(func)

    def class_aliases(self, func: Function) -> dict[str, str]:
        """Locals of an instance method that name the object's class, each with the code it
        is bound to: ``cls = self.__class__`` or ``cls = type(self)``, the name's only
        binding in the method (not a parameter, not ``global``/``nonlocal``). A fix reaches
        a class lock through that code (``self.__class__._lock``), bound wherever the method
        runs."""
        if func not in self._class_aliases:
            self._class_aliases[func] = self._find_class_aliases(func)
        return self._class_aliases[func]

    def _find_class_aliases(self, func: Function) -> dict[str, str]:
        receiver = self.first_param(func)
        if self.method_kind(func) != "instance" or receiver is None:
            return {}
        counts: dict[str, int] = {}
        aliases: dict[str, str] = {}
        for name, node in scope_bindings(func.body, skip=func):
            counts[name] = counts.get(name, 0) + 1
            assign = self.parent(node) if isinstance(node, ast.Name) else None
            if isinstance(assign, ast.Assign) and assign.targets == [node] and _names_class_of(assign.value, receiver):
                aliases[name] = self.code(assign.value)
        params = parameter_names(func)
        declared = self.declared(func, ast.Global) | self.declared(func, ast.Nonlocal)
        return {name: code for name, code in aliases.items() if counts[name] == 1 and name not in params | declared}

    @staticmethod
    def first_param(func: Function) -> str | None:
        params = [*func.args.posonlyargs, *func.args.args]
        return params[0].arg if params else None

    # --- source text ----------------------------------------------------------------------
    def code(self, node: ast.AST) -> str:
        """The node's source exactly as written, its own parentheses included (``(a + b)``),
        as LibCST's ``code_for_node`` gives it for the same expression."""
        start, end = self.source.span(node)
        if isinstance(node, ast.expr) and not isinstance(node, (ast.Tuple, ast.GeneratorExp)):
            start, end = self.source.own_parentheses(start, end, self._parent_paren(node))
        code = self.text[start:end]
        if "\n" not in code and "\r" not in code:
            return code
        return self.source.dedented(start, end, self.source.indentation(self._header_line(node)))

    def _header_line(self, node: ast.AST) -> int:
        """The line whose indentation is the block indentation at ``node`` (LibCST's
        absolute indent there): its statement's first line, or its ``case``'s."""
        for a in (node, *self.ancestors(node)):
            if isinstance(a, ast.stmt):
                return a.lineno
            if isinstance(a, ast.match_case):
                return a.pattern.lineno
        return 1

    def same_code(self, a: ast.AST, b: ast.AST) -> bool:
        """LibCST's ``a.deep_equals(b)``: the same node type written the same way
        (``d['x']`` and ``d["x"]`` differ, so do ``(o.a)`` and ``o.a``)."""
        return type(a) is type(b) and self.code(a) == self.code(b)

    def _parent_paren(self, node: ast.expr) -> Callable[[int, int], bool] | None:
        """Which parentheses around ``node`` are its parent's syntax, given the offsets of
        the ``(`` and its ``)``: a call's argument list, a class's bases, and ``with (x):``
        (LibCST's parenthesized items of a ``with``: ``with (x) as y:`` and ``with (x), y:``
        keep theirs)."""
        parent = self.parent(node)
        source = self.source
        if isinstance(parent, ast.Call) and node is not parent.func:
            paren = source.find("(", source.span(parent.func)[1])
            return lambda before, after: before == paren
        if isinstance(parent, ast.ClassDef) and node in parent.bases:
            paren = source.find("(", source.span(parent)[0])
            return lambda before, after: before == paren
        if isinstance(parent, ast.withitem) and parent.optional_vars is None:
            statement = self.parent(parent)
            start = source.offset(statement.lineno, statement.col_offset)
            keyword = self.text.index("with", start) + len("with")
            paren = source.skip_forward(keyword)
            return lambda before, after: before == paren and self.text[source.skip_forward(after + 1): source.skip_forward(after + 1) + 1] == ":"
        return None

    # --- module facts ---------------------------------------------------------------------
    @cached_property
    def identifiers(self) -> set[str]:
        """Every identifier the module uses (so inserted names collide with none): names,
        attributes, defs, parameters, keywords, imports, ``global``/``nonlocal``, ``except``
        and ``match`` captures."""
        return {name for node in self.nodes for name in identifiers_of(node)}

    @cached_property
    def assignments(self) -> list[tuple[ast.expr, ast.expr]]:
        """(target, value) of every assignment with a value, in source order."""
        return [pair for node in self.find((ast.Assign, ast.AnnAssign)) for pair in _assignments(node)]

    @cached_property
    def private_names(self) -> dict[str, list[ast.AST]]:
        """Every use of each ``_name`` (not dunders), in source order: the node that holds
        the identifier (an ``ast.Name``, an ``ast.Attribute`` for its ``attr``, a def or
        class for its name, an ``ast.arg``, ``ast.keyword``, ``ast.alias``...)."""
        uses: dict[str, list[ast.AST]] = {}
        for node in self.nodes:
            for name in identifiers_of(node):
                if name.startswith("_") and not name.endswith("__"):
                    uses.setdefault(name, []).append(node)
        return uses

    @cached_property
    def thread_handoffs(self) -> list[ast.Call]:
        """Calls that may hand a callable to a thread (``Thread(target=...)``, ``pool.submit``...)."""
        found = []
        for call in self.find(ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute):
                if func.attr in _HANDOFF_NAMES:
                    found.append(call)
            elif isinstance(func, ast.Name) and func.id in ("Thread", "Timer"):
                found.append(call)
        return found

    def call_sites(self, func: Function) -> list[ast.AST]:
        """Where this module may call ``func``: ``f(...)`` for a plain function (the Call),
        any ``x.f`` for a method (the Attribute: a property is read without a call), and
        ``C(...)`` (``cls(...)``, ``type(x)(...)`` inside the class) for ``__new__``/
        ``__init__`` of class ``C``; an import naming ``a.f`` counts (its ``ast.alias``
        or ``ast.ImportFrom``), as LibCST's Attribute there did."""
        name = func.name
        cls = self.method_class(func)
        if cls is None:
            return [c for c in self.find(ast.Call) if _calls_name(c, name)]
        if name in ("__new__", "__init__"):
            inside = find_in(cls, lambda c: isinstance(c, ast.Call) and (
                _calls_name(c, "cls") or (isinstance(c.func, ast.Call) and _calls_name(c.func, "type"))
            ))
            return [c for c in self.find(ast.Call) if _calls_name(c, cls.name)] + inside
        # LibCST spells ``import a.name`` and ``from a.name import x`` with Attributes too.
        return [
            a for a in self.find((ast.Attribute, ast.alias, ast.ImportFrom))
            for _ in range(1 if type(a) is ast.Attribute and a.attr == name else _dotted_parts(a).count(name))
        ]

    # --- held locks (ftmigrate.heldlocks) ---------------------------------------------
    def guard_of(self, node: ast.AST) -> LockRef | None:
        """The lock already held where ``node`` runs, if any (innermost first)."""
        from ftmigrate.heldlocks import guard_of

        return guard_of(self, node)

    def locks_held_at(self, node: ast.AST, _callers_seen: frozenset = frozenset()) -> Iterator[LockRef]:
        """Every lock held where ``node`` runs inside its function, innermost first; last,
        for a private helper, the lock all its callers hold."""
        from ftmigrate.heldlocks import locks_held_at

        return locks_held_at(self, node, _callers_seen)

    def held_locks(self, func: Function) -> list[LockRef]:
        """Locks that ``func`` itself takes somewhere in its body: ``with L:`` or ``L.acquire()``."""
        from ftmigrate.heldlocks import held_locks

        return held_locks(self, func)

    def called_while_holding(self, func: Function, lock_code: str) -> ast.AST | None:
        """A call of ``func`` in this module made while this lock is held (compared by its
        last name), else None (``ftmigrate.heldlocks``)."""
        from ftmigrate.heldlocks import called_while_holding

        return called_while_holding(self, func, lock_code)


def _dotted_parts(node: ast.AST) -> list[str]:
    """The names after the first of a dotted import name (``a.b.c`` -> ``[b, c]``)."""
    if type(node) is ast.alias:
        return node.name.split(".")[1:]
    if type(node) is ast.ImportFrom and node.module:
        return node.module.split(".")[1:]
    return []


def _calls_name(call: ast.Call, name: str) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == name


def _names_class_of(value: ast.AST, receiver: str) -> bool:
    """``receiver.__class__`` or ``type(receiver)``."""
    if isinstance(value, ast.Attribute):
        return value.attr == "__class__" and isinstance(value.value, ast.Name) and value.value.id == receiver
    return (
        isinstance(value, ast.Call) and _calls_name(value, "type") and not value.keywords and len(value.args) == 1
        and isinstance(value.args[0], ast.Name) and value.args[0].id == receiver
    )


def return_after(ctx: FileContext, stmt: ast.stmt, reads: Callable[[ast.AST], bool]) -> tuple[ast.stmt, ...]:
    """``return count`` right after ``count += 1`` (``reads`` holds for something it
    returns): returning the value read under the lock is what makes a counter usable as an
    id generator, so it joins the critical section. As on LibCST, only in an indented
    block (not at module level, not in a one-line ``if x: ...`` suite), and only a
    ``return <value>`` alone on the next line (not after ``a; b``, not ``return x; y``)."""
    owner, field, index = ctx.block_of(stmt)
    block = getattr(owner, field)
    if isinstance(owner, ast.Module) or not ctx.source.starts_line(block[0]):
        return ()
    lines = [i for i, s in enumerate(block) if ctx.source.starts_line(s)]  # where LibCST's lines start
    after = [i for i in lines if i > index]
    if not after:
        return ()
    following = block[after[0]]
    alone = after[0] + 1 == (after[1] if len(after) > 1 else len(block))
    if not (alone and isinstance(following, ast.Return) and following.value is not None):
        return ()
    return (following,) if any_in([following], reads) else ()
