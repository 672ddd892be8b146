"""FT002: check-then-act on a shared container (``if x not in seen: seen.append(x)``).

Detection on the ``ast`` (``ft002_detect``: tests and changes; ``ft002_resolve``:
which shared state a container is); the one-call dict rewrites in ``ft002_atomic``."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from codemods.ft002_atomic import atomic_form, atomic_rewrite
from codemods.ft002_candidate import TEST_WORD, has_candidate
from codemods.ft002_detect import MUTATORS, checked_then_changed, lines_after, mutations, reads_any, takes_lock
from codemods.ft002_resolve import Container, Resolver
from ftmigrate.analysis import FileContext, return_after
from ftmigrate.bindings import FUNCTIONS, Function, calls_unknown_code, dotted, iter_function_nodes
from ftmigrate.fixes import Guard, Replace
from ftmigrate.prefilter import identifier_text
from ftmigrate.rules import Example, Rule, Site


@dataclass(eq=False)
class _Candidate:
    stmt: ast.stmt  # the `if`, or for a change already under a lock, its statement
    function: Function
    container: Container
    followers: tuple[ast.stmt, ...] = ()
    nested: bool = False  # inside another candidate `if`, whose lock will cover it


class CheckThenAct(Rule):
    """
    ## What it does
    Finds a test of a shared container followed by a change of that container in the
    branch the test guards: `if x not in seen: seen.append(x)`, `if k in d: del d[k]`,
    `if k not in cache: cache[k] = compute(k)`, `if not d.get(k): ...`,
    `if d.get(k) is None: ...`; also when the change is in an `elif`/`else` branch, or
    after an `if` that leaves (`if x in seen: return` then `seen.add(x)`). Changes are
    `append`, `add`, `insert`, `extend`, `update`, `remove`, `discard`, `pop`,
    `setdefault`, `clear`, `c[k] = v`, `c[k] += v` and `del c[k]`.

    Shared means: a module-level name, a `global` or `nonlocal` name, a closure
    variable of a function that leaves its parent (returned or handed to a thread), a
    class attribute (`cls.x`, `ClassName.x`) or instance state (`self.x`). A container
    created in the same function, or passed in as a parameter, is not reported.

    ## Why is this bad under free-threading?
    `x in seen` and `seen.append(x)` are each atomic, the pair is not: two threads both
    find `x` missing and both append it. On free-threaded CPython 3.13t, six threads
    adding the same 300 items to such a list got duplicates in a third to a half of 200
    trials, and a compute-on-miss cache computed keys twice about as often (never after
    the fix).

    ## Example
    ```python
    seen = []

    def remember(item):
        if item not in seen:
            seen.append(item)
    ```

    ## Use instead
    ```python
    import threading

    seen = []
    _seen_lock = threading.Lock()

    def remember(item):
        with _seen_lock:
            if item not in seen:
                seen.append(item)
    ```

    ## Fix safety
    Safe (`ftmigrate apply`): the one-call rewrites of a dict, `if k in d: del d[k]` to
    `d.pop(k, None)` and `if k not in d: d[k] = value` to `d.setdefault(k, value)`; and a
    lock around a test and change that call nothing but the container's own methods and
    builtins (`if x not in seen: seen.append(x)`).

    Unsafe (only with `--unsafe-fixes`): the locked block calls other code
    (`cache[k] = compute(k)`, `self.items.append(self.make())`): it now runs with the lock
    held, so concurrent misses wait for each other (each key is computed once), and code
    that blocks, takes another lock, or is an override that calls back from another thread
    can make threads wait or deadlock. A new lock is then an `RLock`, so a call back into
    the same code on the same thread still works. Also unsafe: a new lock for `self.x`
    state is one class attribute shared by every instance, so unrelated instances wait for
    each other.

    The one-call rewrites apply only when every assignment of `d` makes a dict (`{}`,
    `dict()`, `defaultdict()`), the key and value are literals or names (`setdefault`
    evaluates the value even when the key exists), there is no `else`, and no other code
    relies on a lock for `d`. Everything else is wrapped whole, test and all branches, in
    `with <lock>:`; after an `if` that leaves, the statements up to the last change join
    the block, and so does a `return cache[key]` right after it. The lock is a
    module-level lock for module and `global` containers, one in the enclosing function for
    closure containers, and for `self.x`, `cls.x` and `ClassName.x` a new class attribute
    `_x_lock = threading.Lock()`, shared by all instances: correct, but coarse. A lock that
    already guards the container elsewhere is reused when it is a proven `threading` lock
    (`ftmigrate.threadlocks`), else the finding is not fixed.

    Not fixed, and reported with the reason: a container that other code changes without
    any lock (cachetools' `FIFOCache`: the test in `__setitem__` locked, `del` in
    `__delitem__` and `clear()` not, so they still race with it; every change has to go
    under one lock, by hand); an `if` whose branch already takes a lock; one that awaits or
    yields; one that calls a function of the same module that takes the reused lock
    itself (holding it would deadlock).
    """

    code = "FT002"
    name = "check-then-act"
    summary = "membership test then change of a shared container without a lock"
    tokens = (" in ", ".get(")

    VALID = [
        "def f(items):\n    seen = []\n    for x in items:\n        if x not in seen:\n            seen.append(x)\n",
        "import threading\nseen = []\nlock = threading.Lock()\n\ndef f(x):\n    with lock:\n        if x not in seen:\n            seen.append(x)\n",
        "seen = []\n\ndef f(x):\n    if x in seen:\n        print(x)\n",
        "def f(seen, x):\n    if x not in seen:\n        seen.append(x)\n",
        "seen = []\n\ndef f(x):\n    if x not in seen:  # ftmigrate: ignore[FT002]\n        seen.append(x)\n",
        "def load(data):\n    names = {}\n\n    def name(i):\n        if i not in names:\n            names[i] = data[i].decode()\n"
        "        return names[i]\n\n    return [name(i) for i in range(len(data))]\n",
    ]
    INVALID = [
        Example(
            "seen = []\n\ndef remember(item):\n    if item not in seen:\n        seen.append(item)\n",
            "import threading\n\nseen = []\n_seen_lock = threading.Lock()\n\n"
            "def remember(item):\n    with _seen_lock:\n        if item not in seen:\n            seen.append(item)\n",
        ),
        Example(
            "cache = {}\n\ndef get(k):\n    if k not in cache:\n        cache[k] = compute(k)\n    return cache[k]\n",
            "import threading\n\ncache = {}\n_cache_lock = threading.RLock()\n\n"
            "def get(k):\n    with _cache_lock:\n        if k not in cache:\n            cache[k] = compute(k)\n        return cache[k]\n",
            unsafe=True,
        ),
        Example(
            "pending = {}\n\ndef done(k):\n    if k in pending:\n        del pending[k]\n",
            "pending = {}\n\ndef done(k):\n    pending.pop(k, None)\n",
        ),
        Example(
            "counts = {}\n\ndef start(k):\n    if k not in counts:\n        counts[k] = 0\n",
            "counts = {}\n\ndef start(k):\n    counts.setdefault(k, 0)\n",
        ),
        Example(
            "import threading\n\nclass Registry:\n    def __init__(self):\n        self._lock = threading.Lock()\n        self.names = set()\n\n"
            "    def register(self, name):\n        if name in self.names:\n            return False\n        else:\n            self.names.add(name)\n            return True\n\n"
            "    def listing(self):\n        with self._lock:\n            return sorted(self.names)\n",
            "import threading\n\nclass Registry:\n    def __init__(self):\n        self._lock = threading.Lock()\n        self.names = set()\n\n"
            "    def register(self, name):\n        with self._lock:\n            if name in self.names:\n                return False\n            else:\n"
            "                self.names.add(name)\n                return True\n\n"
            "    def listing(self):\n        with self._lock:\n            return sorted(self.names)\n",
        ),
        Example(
            "import threading\nseen = []\nlock = threading.Lock()\n\ndef f(x):\n    if x not in seen:\n        with lock:\n            seen.append(x)\n",
            None,
        ),
    ]

    def prefilter(self, text: str) -> bool:
        """The text holds the keyword ``in`` or the identifier ``get`` (the test), and a
        ``[`` or the name of a changing method (the change). Unlike ``tokens``, this does
        not depend on blanks: ``k in(cache)`` and ``cache.get (k)`` count too."""
        text = identifier_text(text)
        if text is None:
            return True
        if TEST_WORD.search(text) is None:
            return False
        return "[" in text or any(name in text for name in MUTATORS)

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """Some ``if`` directly in a function's code tests a container (``x in c``,
        ``x not in c``, ``c.get(k)``; ``c`` a name or ``receiver.attribute``) that the
        branch it guards or a later ``elif``/``else`` changes, or -- when that branch
        always leaves and there is no ``else`` -- a statement after the ``if`` does; and
        the container may be shared: a name declared ``global``, bound at module level or
        in an enclosing function that may let an inner function out (or it is
        ``nonlocal``); ``self.x``/``cls.x`` in a method whose first parameter it is; or
        ``Cls.x`` for a module-level class ``Cls`` whose body binds ``x``. Locks play no
        part: a change already under a lock is only reported alongside such an ``if``."""
        return has_candidate(tree)


    def check(self, ctx: FileContext) -> Iterator[Site]:
        resolver = Resolver(ctx)
        candidates: list[_Candidate] = []
        changes: list[_Candidate] = []  # every change of a shared container, to find the locks already used
        for func in ctx.find(FUNCTIONS):
            for node in iter_function_nodes(func):
                if isinstance(node, ast.If) and not ctx.is_elif(node):  # an `elif` is part of its `if`
                    candidates += self._candidates(ctx, resolver, func, node)
            for expr, node in mutations(func.body):
                code = dotted(expr)
                container = resolver.resolve(func, code) if code else None
                if container is not None:
                    changes.append(_Candidate(ctx.statement_of(node), func, container))
        spans = {id(s) for c in candidates for s in (c.stmt, *c.followers)}
        shared = {id(c.stmt) for c in candidates if sum(d.stmt is c.stmt for d in candidates) > 1}
        for cand in candidates:
            cand.nested = id(cand.stmt) in shared or any(id(a) in spans for a in ctx.ancestors(cand.stmt))
        by_state: dict[tuple, list[_Candidate]] = {}
        for cand in candidates:
            by_state.setdefault(_state_key(cand), []).append(cand)
        for key, group in by_state.items():
            elsewhere = [c for c in changes if _state_key(c) == key]
            yield from self._sites(ctx, resolver, group, elsewhere)

    @staticmethod
    def _candidates(ctx: FileContext, resolver: Resolver, func: Function, stmt: ast.If) -> list[_Candidate]:
        """One candidate per shared container the ``if`` tests and changes. Containers
        whose lock lives elsewhere than the first one's (module vs. instance) are left out:
        one statement gets one lock."""
        after = lines_after(ctx, stmt)
        found = [(f, resolver.resolve(func, f.code)) for f in checked_then_changed(ctx, stmt, after)]
        found = [(f, c) for f, c in found if c is not None]
        if not found:
            return []
        found = [(f, c) for f, c in found if c.domain == found[0][1].domain]
        # The critical section runs to the last change of any of them (`del a[k]` ... `del b[v]`).
        followers = tuple(s for line in max((f.followers for f, _ in found), key=len) for s in line)
        # ... and a `return cache[key]` right after it, so the value returned is the one the
        # critical section ensured (no other thread removes it in between).
        followers += return_after(ctx, followers[-1] if followers else stmt, reads_any({f.code for f, _ in found}))
        return [_Candidate(stmt, func, c, followers) for _, c in found]

    def _sites(self, ctx: FileContext, resolver: Resolver, group: list[_Candidate], changes: list[_Candidate]) -> Iterator[Site]:
        container = group[0].container
        message = (
            f"`{container.code}` ({container.where} state) is tested and then changed without a lock; "
            "two threads can both pass the test (check-then-act)"
        )
        # Changes already under a lock: not findings, but they tell the planner which lock
        # guards this container, so the fix reuses it.
        known = [(c, ctx.guard_of(c.stmt)) for c in changes]
        known = [(c, lock) for c, lock in known if lock is not None]
        for cand, lock in known:
            yield self.site(cand.stmt, message, domain=container.domain, fix=_guard(cand), guarded_by=lock)
        locked = {id(c): ctx.guard_of(c.stmt) for c in group}
        atomic = {id(c): None if c.nested else atomic_form(ctx, c.stmt, container.code) for c in group}
        # One atomic call only helps if nothing relies on a lock for this container.
        use_atomic = all(atomic.values()) and not known and resolver.is_dict(container)
        unlocked = [] if use_atomic else _unlocked_changes(ctx, group, changes)
        for cand in group:
            inner_lock = takes_lock(ctx, (cand.stmt, *cand.followers))
            if unlocked and locked[id(cand)] is None:
                reason = _uncovered_reason(container.code, unlocked)
                yield self.site(cand.stmt, message, unfixable_reason=reason, **_span(cand))
            elif use_atomic:
                fix = Replace(cand.stmt, atomic_rewrite(atomic[id(cand)]))
                yield self.site(cand.stmt, message, domain=container.domain, fix=fix)
            elif inner_lock is not None and locked[id(cand)] is None:
                reason = f"a branch already takes `{inner_lock}`; move the test under that lock by hand"
                yield self.site(cand.stmt, message, unfixable_reason=reason, **_span(cand))
            else:
                yield self.site(cand.stmt, message, domain=container.domain, fix=_guard(cand), guarded_by=locked[id(cand)])


_NOT_SHARED_YET = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__"})


def _unlocked_changes(ctx: FileContext, group: list[_Candidate], changes: list[_Candidate]) -> list[ast.stmt]:
    """Changes of the group's container that no lock covers, outside the group's own
    critical sections and constructors: a lock around the test alone would not make the
    container safe (cachetools' FIFOCache: the test in ``__setitem__`` locked, ``del`` in
    ``__delitem__`` and ``clear()`` not, so another thread still changes it in between)."""
    spans = {id(s) for c in group for s in (c.stmt, *c.followers)}
    found = []
    for change in changes:
        if change.function.name in _NOT_SHARED_YET or ctx.guard_of(change.stmt) is not None:
            continue
        if id(change.stmt) in spans or any(id(a) in spans for a in ctx.ancestors(change.stmt)):
            continue
        found.append(change.stmt)
    return list(dict.fromkeys(found))


def _uncovered_reason(code: str, unlocked: list[ast.stmt]) -> str:
    lines = sorted({s.lineno for s in unlocked})
    shown = ", ".join(map(str, lines[:4])) + (", ..." if len(lines) > 4 else "")
    return (
        f"`{code}` is also changed without a lock elsewhere (line{'s' if len(lines) > 1 else ''} {shown}); "
        "a lock around this test alone would not stop those changes from racing with it: lock every "
        "change of it with one lock by hand"
    )


def _state_key(cand: _Candidate) -> tuple:
    return (cand.container.domain, cand.container.state, cand.container.code)


def _span(cand: _Candidate) -> dict:
    """What an unfixed site tells the confidence: the state and the critical section."""
    return {"domain": cand.container.domain, "state": cand.container.state, "followers": cand.followers}


def _guard(cand: _Candidate) -> Guard:
    container = cand.container
    return Guard(
        stmt=cand.stmt,
        state=container.state,
        domain=container.domain,
        function=cand.function,
        reentrant=any(
            calls_unknown_code(stmt, safe_receivers=frozenset({container.code})) for stmt in (cand.stmt, *cand.followers)
        ),
        receiver=container.receiver,
        followers=cand.followers,
    )
