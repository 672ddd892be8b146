"""FT001: unsynchronised read-modify-write of a ``global`` or ``nonlocal`` name."""

from __future__ import annotations

import ast
import re
from typing import Iterator

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import FileContext, binop_operands, iter_function_nodes
from ftmigrate.locking import MODULE, Domain
from ftmigrate.prefilter import (
    AUGMENTED_OPERATOR, BINARY_OPERATOR, GAP, declared_names, identifier_text, logical_rest, statements,
)
from ftmigrate.rules import Example, Rule, Site

_ASSIGN_BINOP = m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.BinaryOperation())


def rmw_name(node: cst.CSTNode) -> str | None:
    """The name ``node`` reads, modifies and writes back: ``x += 1`` or ``x = x + 1``."""
    if isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name):
        return node.target.value
    if type(node) is cst.Assign and m.matches(node, _ASSIGN_BINOP):  # the class test first: matchers are slow
        name = node.targets[0].target.value
        if any(m.matches(op, m.Name(name)) for op in binop_operands(node.value)):
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
    The fix adds one module-level lock per variable (a closure-level lock for `nonlocal`),
    right after the variable's own assignment, and wraps only the statement (consecutive
    statements on the same variable share one `with`), never the loop around it. A
    `return counter` right after the update joins the critical section, so each caller
    gets the value its own update produced. Variables updated in the same function share
    one lock (`_hits_misses_lock`), so no function ever takes two inserted locks. Code
    already under a lock is left alone (the `ftmigrate.analysis` module documentation says
    what counts as a lock). A lock that already guards the variable elsewhere is reused
    when it is a proven `threading` lock (`ftmigrate.threadlocks`); when something else
    guards it there, the finding is not fixed, since a new lock would not exclude that code. If the statement calls a function
    (`total += compute()`), a new lock is an `RLock`, so a call that re-enters the same
    code on the same thread still works instead of deadlocking; the call now runs while the lock is held, which
    serialises it. A statement that `await`s or `yield`s is not fixed (a thread lock must
    not be held across a suspension).
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
    ]

    def prefilter(self, text: str) -> bool:
        """A declared name must be written as ``name <op>= ...`` or ``name = ...`` with a
        binary operator and the name itself before the end of that logical line."""
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
            if rest is None or (BINARY_OPERATOR.search(rest) and re.search(rf"\b{re.escape(match.group(1))}\b", rest)):
                return True
        return False

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """Some name declared ``global``/``nonlocal`` somewhere is the target of an
        augmented assignment or of ``name = <binary operation>`` somewhere."""
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
                and isinstance(stmt.value, ast.BinOp)
            ):
                targets.add(stmt.targets[0].id)
        return not declared.isdisjoint(targets)

    def check(self, ctx: FileContext) -> Iterator[Site]:
        for func in ctx.find(cst.FunctionDef):
            globals_ = ctx.declared(func, cst.Global)
            nonlocals = ctx.declared(func, cst.Nonlocal)
            if not globals_ and not nonlocals:
                continue
            for node in iter_function_nodes(func):
                name = rmw_name(node)
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
                    ctx, node, f"`{name}` ({where} state)", m.Name(name), state=name, domain=domain, function=func
                )

    @staticmethod
    def _closure_owner(ctx: FileContext, func: cst.FunctionDef, name: str) -> cst.FunctionDef | None:
        """The enclosing function whose local ``name`` a ``nonlocal`` refers to."""
        for ancestor in ctx.ancestors(func):
            if isinstance(ancestor, cst.FunctionDef) and name not in ctx.declared(ancestor, cst.Nonlocal):
                if name in ctx.local_bindings(ancestor) or any(
                    p.name.value == name for p in ancestor.params.params
                ):
                    return ancestor
        return None
