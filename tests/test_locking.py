"""The lock planner on ``ast`` (``ftmigrate.locking``) and its LibCST writer
(``ftmigrate.lockwriter``), driven with hand-made fixes: the exact code written where
LibCST's lines and ``ast``'s statements differ (``a; b``, one-line suites, one-line bodies),
rewrites given as functions on the LibCST statement, refusals, fix safety, and planning
without LibCST at all (what ``scan`` does)."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst

from ftmigrate.analysis import FileContext
from ftmigrate.cstpair import pair
from ftmigrate.fixes import MODULE, Domain, Guard, Replace, refusal
from ftmigrate.locking import apply_fixes
from ftmigrate.verify import check_rewrite


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _context(code: str) -> FileContext:
    return FileContext(ast.parse(code), code)


def _write(ctx: FileContext, guards=(), replaces=(), unsafe_fixes: bool = False):
    module = cst.parse_module(ctx.text)
    return apply_fixes(ctx, module, pair(ctx.tree, module), list(guards), list(replaces), [], write=True, unsafe_fixes=unsafe_fixes)


def _function(ctx: FileContext, name: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(ctx.tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def _class(ctx: FileContext, name: str) -> ast.ClassDef:
    return next(n for n in ast.walk(ctx.tree) if isinstance(n, ast.ClassDef) and n.name == name)


# --- the else branch of a double-checked `if` (FT003 relies on it) ----------------------

ELSE_SOURCE = _code(
    """
    _client = None

    def get():
        global _client
        if _client is None:
            _client = make()
        else:
            log()
        return _client
    """
)


def test_planner_refuses_a_double_checked_if_with_else():
    ctx = _context(ELSE_SOURCE)
    func = _function(ctx, "get")
    guard = Guard(func.body[1], "_client", MODULE, func, double_checked=True)
    assert refusal(guard) == "the `if` has an `else`/`elif` branch, which double-checked locking would run at the wrong time"
    outcome = _write(ctx, [guard])
    assert outcome.module.code == ELSE_SOURCE and id(guard) in outcome.refused


def test_verifier_rejects_a_double_checked_if_that_drops_the_else():
    wrong = ELSE_SOURCE.replace(
        "    if _client is None:\n        _client = make()\n    else:\n        log()\n",
        "    if _client is None:\n        with _client_lock:\n            if _client is None:\n"
        "                _client = make()\n            else:\n                log()\n",
    )
    outcome = _write(_context(ELSE_SOURCE))
    outcome.inserted.lock_exprs.add("_client_lock")
    assert check_rewrite(ELSE_SOURCE, wrong, outcome.inserted) == (
        "the rewritten code differs from the input beyond the inserted lock code"
    )


def test_refusals_known_before_planning():
    ctx = _context(
        _code(
            """
            async def tick():
                global n
                n += 1

            def gen():
                global n
                n += yield

            def assign():
                global n
                n = 1
            """
        )
    )
    tick, gen, assign = ctx.tree.body
    assert refusal(Guard(tick.body[1], "n", MODULE, tick)) == (
        "it runs in `async def tick`: a thread lock there would block the event loop "
        "(coroutines of one loop do not interleave without an `await`)"
    )
    assert refusal(Guard(gen.body[1], "n", MODULE, gen)) == "the statement awaits or yields; a thread lock must not be held across it"
    assert refusal(Guard(assign.body[1], "n", MODULE, assign, double_checked=True)) == "double-checked locking needs an `if` statement"
    # The rule's replacement is the `if` to double-check (FT003's `X = X or make()`).
    rewritten = Guard(assign.body[1], "n", MODULE, assign, double_checked=True, replacement=lambda line: line)
    assert refusal(rewritten) is None
    assert refusal(Replace(assign.body[1], new=lambda line: line)) is None


# --- LibCST's lines and suites ------------------------------------------------------------

SEMICOLONS = _code(
    """
    import os

    hits = 0; misses = 0


    def record(hit):
        global hits, misses
        if hit: hits += 1
        n = misses; misses = n + 1
        return os.getpid()
    """
)


def test_a_line_of_several_statements_is_wrapped_whole_and_the_lock_goes_after_it():
    ctx = _context(SEMICOLONS)
    func = _function(ctx, "record")
    suite_stmt = func.body[1].body[0]  # `hits += 1` in `if hit: hits += 1`
    second = func.body[3]  # `misses = n + 1` of `n = misses; misses = n + 1`
    guards = [Guard(suite_stmt, "hits", MODULE, func), Guard(second, "misses", MODULE, func, leaders=(func.body[2],))]
    outcome = _write(ctx, guards)
    assert outcome.module.code == _code(
        """
        import os
        import threading

        hits = 0; misses = 0
        _record_lock = threading.Lock()


        def record(hit):
            global hits, misses
            if hit:
                with _record_lock:
                    hits += 1
            with _record_lock:
                n = misses; misses = n + 1
            return os.getpid()
        """
    )
    assert outcome.applied == {id(g) for g in guards} and not outcome.refused
    assert outcome.inserted.lock_names == {"_record_lock"} and outcome.inserted.lock_exprs == {"_record_lock"}


def test_a_one_line_class_body_gets_no_lock():
    ctx = _context(
        _code(
            """
            class Stats: total = 0

            def add():
                Stats.total += 1
            """
        )
    )
    func = _function(ctx, "add")
    guard = Guard(func.body[0], "total", Domain("class", _class(ctx, "Stats")), func, receiver="Stats")
    outcome = _write(ctx, [guard])
    assert outcome.refused == {id(guard): "cannot place a lock in a one-line class or function body"}
    assert outcome.module.code == ctx.text


def test_a_class_lock_goes_after_the_state_and_is_reached_through_the_receiver():
    ctx = _context(
        _code(
            '''
            class Stats:
                """Counts."""

                total = 0; seen = 0

                def add(self):
                    Stats.total += 1
            '''
        )
    )
    func = _function(ctx, "add")
    guard = Guard(func.body[0], "total", Domain("class", _class(ctx, "Stats")), func, receiver="Stats")
    assert _write(ctx, [guard]).module.code == _code(
        '''
        import threading

        class Stats:
            """Counts."""

            total = 0; seen = 0
            _total_lock = threading.Lock()

            def add(self):
                with Stats._total_lock:
                    Stats.total += 1
        '''
    )


# --- rewrites given as functions on the LibCST statement ---------------------------------

POP = _code(
    """
    cache = {}


    def forget(key):
        # drop it
        if key in cache:
            del cache[key]
    """
)


def test_a_replace_is_written_from_the_paired_libcst_statement():
    ctx = _context(POP)
    func = _function(ctx, "forget")
    seen = []

    def atomic(stmt: cst.CSTNode) -> cst.BaseStatement:
        seen.append(stmt)
        return cst.parse_statement("cache.pop(key, None)\n")

    fix = Replace(func.body[0], new=atomic)
    outcome = _write(ctx, replaces=[fix])
    assert [type(s) for s in seen] == [cst.If] and seen[0].leading_lines[0].comment.value == "# drop it"
    assert outcome.module.code == POP.replace("    if key in cache:\n        del cache[key]\n", "    cache.pop(key, None)\n")
    assert outcome.applied == {id(fix)}
    assert outcome.inserted.substitutions == [("# drop it\nif key in cache:\n    del cache[key]\n", "cache.pop(key, None)\n")]


def test_planning_without_writing_needs_no_libcst():
    ctx = _context(POP)
    func = _function(ctx, "forget")
    guard = Guard(func.body[0], "cache", MODULE, func)
    replace = Replace(func.body[0], new=lambda stmt: stmt)
    outcome = apply_fixes(ctx, None, None, [guard], [replace], [], write=False)
    assert outcome.module is None
    assert outcome.applied == {id(guard)} and outcome.refused == {id(replace): "overlaps another fix"}


# --- fix safety -------------------------------------------------------------------------


def test_an_unsafe_fix_names_the_first_call_in_source_order_and_is_held_back():
    code = _code(
        """
        registry = {}


        def register(name):
            registry[name] = {make_key(name): build(name)}
        """
    )
    ctx = _context(code)
    func = _function(ctx, "register")
    guard = Guard(func.body[0], "registry", MODULE, func, reentrant=True)
    reason = (
        "the lock is held while `make_key()` runs, code that can block, take other locks or be "
        "overridden: its callers are serialised and can deadlock"
    )
    held_back = _write(ctx, [guard])
    assert held_back.module.code == code and held_back.unsafe == {id(guard): reason}
    assert id(guard) not in held_back.applied and id(guard) not in held_back.refused
    applied = _write(ctx, [guard], unsafe_fixes=True)
    assert applied.unsafe == {id(guard): reason} and applied.applied == {id(guard)}
    assert "registry = {}\n_registry_lock = threading.RLock()\n" in applied.module.code


def test_an_enum_gets_no_lock_attribute_even_in_a_one_line_body():
    ctx = _context(
        _code(
            """
            class Kind(enum.Enum): count = 0

            def add():
                Kind.count += 1
            """
        )
    )
    func = _function(ctx, "add")
    guard = Guard(func.body[0], "count", Domain("class", _class(ctx, "Kind")), func, receiver="Kind")
    assert _write(ctx, [guard]).refused == {id(guard): "a lock attribute added to an Enum class would become a member"}


def test_calls_on_state_built_in_a_local_are_the_new_objects_code():
    """FT003 builds ``cls._instance`` in a local and publishes it last: under the lock,
    ``cls._instance.setup()`` runs as ``instance.setup()``, the new object's code."""
    ctx = _context(
        _code(
            """
            class S:
                _instance = None

                def __new__(cls):
                    if cls._instance is None:
                        cls._instance = super().__new__(cls)
                        cls._instance.setup()
                    return cls._instance
            """
        )
    )
    func = _function(ctx, "__new__")
    domain = Domain("class", _class(ctx, "S"))
    plain = Guard(func.body[0], "_instance", domain, func, reentrant=True, receiver="cls", double_checked=True)
    local = Guard(
        func.body[0], "_instance", domain, func, reentrant=True, receiver="cls", double_checked=True,
        replacement=lambda stmt: stmt, local=("cls._instance", "instance"),
    )  # fmt: skip
    assert _write(ctx, [plain]).unsafe == {}
    assert _write(ctx, [local]).unsafe == {
        id(local): "the lock is held while `instance.setup()` runs, code that can block, take other locks or be "
        "overridden: its callers are serialised and can deadlock"
    }
