"""FT001: unsynchronised read-modify-write of a ``global`` or ``nonlocal`` name (detected on
the standard ``ast``)."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from ftmigrate.analysis import FUNCTIONS, FileContext, binop_operands, iter_function_nodes
from ftmigrate.fixes import MODULE, Domain
from ftmigrate.prefilter import (
    AUGMENTED_OPERATOR, BINARY_OPERATOR, GAP, declared_names, identifier_text, logical_rest, statements,
)
from ftmigrate.rules import Example, Rule, Site
from ftmigrate.spans import spelling, written_back


def rmw_name(node: ast.AST) -> str | None:
    """The name ``node`` reads, modifies and writes back: ``x += 1`` or ``x = x + 1``."""
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if type(node) is ast.Assign and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.BinOp):
        name = node.targets[0].id
        if any(isinstance(op, ast.Name) and op.id == name for op in binop_operands(node.value)):
            return name
    return None


class GlobalReadModifyWrite(Rule):
    """
    ## What it does
    Finds read-modify-writes of module or closure state from inside a function: a name
    declared `global` or `nonlocal` that is the target of an augmented assignment
    (`counter += 1`, `total -= n`, `flags |= bit`) or of `x = x <op> ...`.

    ## Why is this bad under free-threading?
    `counter += 1` is three steps: load, add, store. Without the GIL two threads run them
    at the same time, both load 50 and both store 51: an update is lost. On free-threaded
    CPython 3.13t, four threads doing 100,000 increments each end far below 400,000.

    ## Example
    ```python
    counter = 0

    def increment():
        global counter
        counter += 1
    ```

    ## Use instead
    ```python
    import threading

    counter = 0
    _counter_lock = threading.Lock()

    def increment():
        global counter
        with _counter_lock:
            counter += 1
    ```

    ## Fix safety
    Safe (`ftmigrate apply`): a dedicated new lock, or one that already guards the
    variable, around an update that calls nothing but builtins (`counter += 1`,
    `total -= n`): the code does what it did, atomically.

    Unsafe (only with `--unsafe-fixes`): the update calls other code
    (`total += compute()`, `count = count + self.size()`). That call now runs with the
    lock held: callers are serialised while it runs, and if it blocks, takes another lock
    or is an override that comes back through another thread, threads can wait for each
    other or deadlock. A new lock is then an `RLock`, so a call that re-enters the same
    code on the same thread still works.

    The fix adds one module-level lock (a closure-level lock for `nonlocal`) right after
    the variable's own assignment, named for what it guards (`_counter_lock`; variables
    updated together share one lock named for the group, e.g. `_stats_lock` in
    `stats.py`), and wraps the whole update, never the loop around it: the adjacent
    statements that read the variable for the update (`old = counter` before
    `counter += 1`; `x = counter` before `counter = x + 1`; `n = total; n += 1; total = n`)
    and a `return counter` right after it join the critical section, so no other thread
    writes between the read and the write. A read separated from the update by other
    code is not moved under the lock. Variables updated in the same function share one
    lock, so no function ever takes two inserted locks. Code already under a lock is left
    alone (the `ftmigrate.heldlocks` module documentation says what counts as a lock). A lock
    that already guards the variable elsewhere is reused when it is a proven `threading`
    lock (`ftmigrate.threadlocks`); when something else guards it there, the finding is not
    fixed, since a new lock would not exclude that code. A statement that `await`s or `yield`s is not fixed (a thread lock must not
    be held across a suspension).
    """

    code = "FT001"
    name = "global-read-modify-write"
    summary = "`global`/`nonlocal` read-modify-write without a lock"
    tokens = ("global", "nonlocal")
    pattern = re.compile(r"\b(?:global|nonlocal)\b")

    VALID = [
        "counter = 0\ncounter += 1\n",
        "def f():\n    counter = 0\n    counter += 1\n",
        "import threading\ncounter = 0\nlock = threading.Lock()\n\ndef f():\n    global counter\n    with lock:\n        counter += 1\n",
        "def f():\n    global config\n    config = load()\n",
        "counter = 0\n\ndef f():\n    global counter\n    counter += 1  # ftmigrate: ignore[FT001]\n",
    ]
    INVALID = [
        Example(
            "counter = 0\n\ndef f():\n    global counter\n    counter += 1\n",
            "import threading\n\ncounter = 0\n_counter_lock = threading.Lock()\n\n"
            "def f():\n    global counter\n    with _counter_lock:\n        counter += 1\n",
        ),
        Example(
            "def make():\n    n = 0\n    def inc():\n        nonlocal n\n        n = n + 1\n        return n\n    return inc\n",
            "import threading\n\ndef make():\n    n = 0\n    _n_lock = threading.Lock()\n    def inc():\n        nonlocal n\n"
            "        with _n_lock:\n            n = n + 1\n            return n\n    return inc\n",
        ),
        Example(
            "counter = 0\n\ndef take():\n    global counter\n    old = counter\n    counter = old + 1\n    return old\n",
            "import threading\n\ncounter = 0\n_counter_lock = threading.Lock()\n\ndef take():\n    global counter\n"
            "    with _counter_lock:\n        old = counter\n        counter = old + 1\n    return old\n",
        ),
        Example(
            "total = 0\n\ndef add(item):\n    global total\n    total += item.price()\n",
            "import threading\n\ntotal = 0\n_total_lock = threading.RLock()\n\ndef add(item):\n    global total\n"
            "    with _total_lock:\n        total += item.price()\n",
            unsafe=True,
        ),
    ]

    def prefilter(self, text: str) -> bool:
        """A declared name must be written as ``name <op>= ...``, or ``name = ...`` with a
        binary operator or a lone name (the write-back of a split update, ``x = n + 1``
        after ``n = x``) before the end of that logical line."""
        if not super().prefilter(text):
            return False
        text = identifier_text(text)
        if text is None:
            return True
        names = declared_names(text)
        if not names:
            return False
        alternatives = "|".join(map(re.escape, sorted(names)))
        target = re.compile(rf"\b({alternatives})\b{GAP}(?:({AUGMENTED_OPERATOR})|=(?!=))")
        for match in target.finditer(text):
            if match.group(2):
                return True
            rest = logical_rest(text, match.end())
            name = re.escape(match.group(1))
            if rest is None or (BINARY_OPERATOR.search(rest) and re.search(rf"\b{name}\b", rest)):
                return True
            # A split update's write-back (`x = n + 1`, `x = n`): the name is read elsewhere.
            if (BINARY_OPERATOR.search(rest) or re.fullmatch(r"\s*[A-Za-z_]\w*\s*;?\s*", rest)) and re.search(rf"=[^=\n]*\b{name}\b", text):
                return True
        return False

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """Some name declared ``global``/``nonlocal`` somewhere is the target of an
        augmented assignment or of ``name = <binary operation>`` or ``name = <name>``
        somewhere."""
        declared: set[str] = set()
        targets: set[str] = set()
        for stmt in statements(tree):
            if isinstance(stmt, (ast.Global, ast.Nonlocal)):
                declared.update(stmt.names)
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                targets.add(stmt.target.id)
            elif (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, (ast.BinOp, ast.Name))  # a Name: a split update's write-back
            ):
                targets.add(stmt.targets[0].id)
        return not declared.isdisjoint(targets)

    def check(self, ctx: FileContext) -> Iterator[Site]:
        for func in ctx.find(FUNCTIONS):
            globals_ = ctx.declared(func, ast.Global)
            nonlocals = ctx.declared(func, ast.Nonlocal)
            if not globals_ and not nonlocals:
                continue
            for node in iter_function_nodes(func):
                name = rmw_name(node)
                if name is None:
                    written = written_back(ctx, node, ast.Name)  # `x = n + 1` after `n = x`
                    name = written.id if written is not None else None
                if name is None or name not in globals_ | nonlocals:
                    continue
                if name in globals_:
                    domain, where = MODULE, "module"
                else:
                    owner = self._closure_owner(ctx, func, name)
                    if owner is None:
                        continue
                    domain, where = Domain("closure", owner), "closure"
                yield self.read_modify_write_site(
                    ctx, node, f"`{name}` ({where} state)", spelling(name), state=name, domain=domain, function=func
                )

    @staticmethod
    def _closure_owner(ctx: FileContext, func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The enclosing function whose local ``name`` a ``nonlocal`` refers to."""
        for ancestor in ctx.ancestors(func):
            if isinstance(ancestor, FUNCTIONS) and name not in ctx.declared(ancestor, ast.Nonlocal):
                if name in ctx.local_bindings(ancestor) or any(arg.arg == name for arg in ancestor.args.args):
                    return ancestor
        return None
