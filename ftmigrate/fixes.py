"""What a fix is: the records rules hand to the lock planner (``ftmigrate.locking``).

Rules detect on the standard ``ast``, so a fix names ``ast`` statements (``stmt``,
``leaders``, ``followers``), functions and classes. The rewrite is written on LibCST
(``ftmigrate.lockwriter``), through the pairing of ``ast`` statements with LibCST
ones (``ftmigrate.cstpair``): a rewrite that is not "run these statements under a
lock" (an atomic ``d.pop(k, None)``, a double-checked ``if`` that publishes last) is a
function a rule gives, called with the LibCST statement paired with the fix's ``stmt``
and returning the statement to write instead.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst

Function = ast.FunctionDef | ast.AsyncFunctionDef
# Given the LibCST statement paired with the fix's ``stmt``, the LibCST statement to write instead.
Rewrite = Callable[["cst.CSTNode"], "cst.BaseStatement"]


@dataclass(frozen=True)
class LockRef:
    """An existing lock seen in the code: ``expr`` as written, and how it is held."""

    code: str  # source of the lock expression, e.g. "self._lock"; "" for decorators
    kind: str  # "with" | "acquire" | "decorator"
    function: Function | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Domain:
    """Where a lock for some state can live. ``owner``: ClassDef or (closure) function."""

    kind: str  # "module" | "class" | "instance" | "closure"
    owner: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | None = None

    def __post_init__(self) -> None:
        assert self.kind in ("module", "class", "instance", "closure"), self.kind


MODULE = Domain("module")


@dataclass(eq=False)
class Guard:
    """Run ``stmt`` (an ``ast`` statement of the file) under the lock for ``state``.

    ``receiver`` is how the statement names the object for class/instance state
    (``self``, ``cls``, ``Counter``); the lock is reached through it. ``double_checked``
    turns an ``if`` into check / lock / check again (lazy initialisation). ``replacement``
    gives the statement to put under the lock instead of ``stmt`` (verified as a rewrite):
    called with the LibCST statement paired with ``stmt``; it is built from ``stmt``'s own
    code (same calls, awaits and yields), and with ``double_checked`` it is an ``if``
    without ``else``/``elif`` unless ``stmt`` is that ``if`` itself.
    """

    stmt: ast.stmt
    state: str
    domain: Domain
    function: Function
    reentrant: bool = False
    receiver: str | None = None
    double_checked: bool = False
    replacement: Rewrite | None = None
    anchor: str | None = None  # name bound in the domain's body after which a new lock goes
    # Statements right after ``stmt`` that read the state and belong in the same critical
    # section (e.g. ``return count`` after ``count += 1``); wrapped, never reported.
    followers: tuple[ast.stmt, ...] = ()
    # Statements right before ``stmt`` in the same block that read the state the update
    # uses (``n = self.count`` before ``self.count = n + 1``): the critical section starts
    # at the first of them, so no other thread writes between the read and the write.
    leaders: tuple[ast.stmt, ...] = ()
    # Guards that only make sense applied with this one (a singleton's ``__new__`` and its
    # ``__init__`` guard): they are as safe as the least safe of them, and held back together.
    together: list = field(default_factory=list)
    # (the state as ``stmt`` spells it, a local name) when ``replacement`` builds the object in
    # that local and publishes it last (FT003): the state's uses after its assignment run on
    # the new object (``cls._instance.setup()`` as ``instance.setup()``), not on guarded state.
    local: tuple[str, str] | None = None

    @property
    def span(self) -> tuple[ast.stmt, ...]:
        """Every statement of the file the critical section holds, in order."""
        return (*self.leaders, self.stmt, *self.followers)


@dataclass(eq=False)
class Replace:
    """Replace ``stmt`` by an equivalent atomic form (e.g. ``d.pop(k, None)``): ``new``,
    called with the LibCST statement paired with ``stmt``, gives it."""

    stmt: ast.stmt
    new: Rewrite


@dataclass
class Inserted:
    """What a rewrite added, for the verifier: everything else must be unchanged."""

    lock_names: set[str] = field(default_factory=set)
    lock_exprs: set[str] = field(default_factory=set)
    substitutions: list[tuple[str, str]] = field(default_factory=list)  # (code before, code after)


@dataclass
class Outcome:
    module: cst.Module | None  # the rewritten LibCST module; the input (or None) when not writing
    inserted: Inserted
    applied: set[int]  # id() of fixes that were applied (or covered by an enclosing fix)
    refused: dict[int, str]  # id(fix) -> reason
    # id(fix) -> why the fix is unsafe (``ftmigrate.fixsafety``), for every unsafe fix that
    # was applied (with ``unsafe_fixes``) or held back (without; then it is in neither
    # ``applied`` nor ``refused``).
    unsafe: dict[int, str] = field(default_factory=dict)


def refusal(fix: Guard | Replace) -> str | None:
    """Why ``fix`` can never be applied (known before planning), else None."""
    from ftmigrate.analysis import (
        suspends,  # analysis imports LockRef from here
    )

    if not isinstance(fix, Guard):
        return None
    if any(suspends(stmt) for stmt in fix.span):
        return "the statement awaits or yields; a thread lock must not be held across it"
    if isinstance(fix.function, ast.AsyncFunctionDef):
        return (
            f"it runs in `async def {fix.function.name}`: a thread lock there would block the event loop "
            "(coroutines of one loop do not interleave without an `await`)"
        )
    is_if = isinstance(fix.stmt, ast.If)
    if fix.double_checked and not is_if and fix.replacement is None:
        return "double-checked locking needs an `if` statement"
    if fix.double_checked and is_if and fix.stmt.orelse:
        return "the `if` has an `else`/`elif` branch, which double-checked locking would run at the wrong time"
    return None
