"""Fix safety, as ruff has it: a fix is *safe* when the code behaves as before apart from
atomicity, *unsafe* when it can change what the program does. ``apply`` writes safe fixes;
``--unsafe-fixes`` (or ``unsafe-fixes = true`` in ``[tool.ftmigrate]``) writes the rest too.

Safe: a dedicated new lock (or a lock that already guards the state) around code that
calls nothing ftmigrate cannot see (``counter += 1``, ``d[k] = v``), and the one-call
rewrites (``d.pop(k, None)``, ``d.setdefault(k, v)``).

Unsafe, with the reason the finding carries:
- the lock is held around a call into other code: a method (``self.load()``, which a
  subclass may override), a callback, a factory or a constructor. That code now runs
  with the lock held: it is serialised, and if it blocks, re-enters through another
  thread, or takes another lock, the program can stall or deadlock;
- one class-wide (or module-wide) lock guards per-instance state (``self.x``): every
  instance of the class now waits for every other.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ftmigrate.analysis import SAFE_CALLS, dotted

if TYPE_CHECKING:
    from ftmigrate.analysis import FileContext
    from ftmigrate.fixes import Guard

SAFE, UNSAFE = "safe", "unsafe"


_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException))


def _object_new(call: ast.Call) -> bool:
    """``super().__new__(cls)`` / ``object.__new__(cls)``: ``object``'s allocation, no user code."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "__new__" and len(call.args) + len(call.keywords) == 1):
        return False
    owner = func.value
    if isinstance(owner, ast.Name):
        return owner.id == "object"
    return isinstance(owner, ast.Call) and _bare_super(owner)


def _bare_super(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "super" and not call.args and not call.keywords


def _plain_class(guard: Guard) -> bool:
    """The state's class derives from ``object`` only: its ``super().__new__`` is ``object``'s."""
    owner = guard.domain.owner
    return isinstance(owner, ast.ClassDef) and all(dotted(base) == "object" for base in owner.bases) and not owner.keywords


def _calls(stmt: ast.AST) -> list[ast.Call]:
    """The calls in ``stmt`` in source order, an outer call before the calls in it."""
    found = [n for n in ast.walk(stmt) if isinstance(n, ast.Call)]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset, -n.end_lineno, -n.end_col_offset))


def _unknown_call(
    stmts: Iterable[ast.stmt], containers: frozenset[str], plain_class: bool = False, local: str | None = None
) -> ast.Call | None:
    """The first call in ``stmts`` to code ftmigrate cannot see: not a safe builtin, not a
    built-in exception (``raise KeyError(k)``), not a method of guarded state (``containers``:
    ``seen``, ``self._cache``: the containers the fixes of the file lock; ``local``: the
    state the fix builds in a local, whose methods are the new object's)."""
    for stmt in stmts:
        for node in _calls(stmt):
            func = node.func
            if isinstance(func, ast.Name) and (func.id in SAFE_CALLS or func.id in _EXCEPTIONS or func.id in ("hasattr", "getattr")):
                continue
            if isinstance(func, ast.Attribute) and dotted(func.value) in containers and dotted(func.value) != local:
                continue
            if plain_class and (_object_new(node) or _bare_super(node)):
                continue
            return node
    return None


def _callee(ctx: FileContext, call: ast.Call, local: tuple[str, str] | None) -> str:
    """How the call's callee is shown: as the fix writes it (the state built in a local
    called by the local's name)."""
    code = ctx.code(call.func)
    if local is not None and (code == local[0] or code.startswith(local[0] + ".")):
        code = local[1] + code[len(local[0]) :]
    return code if len(code) <= 40 else code[:37] + "..."


def state_code(guard: Guard) -> str:
    """How ``guard``'s code spells its state: ``seen``, ``self._cache``."""
    return f"{guard.receiver}.{guard.state}" if guard.receiver else guard.state


def code_hazard(ctx: FileContext, guard: Guard, containers: frozenset[str]) -> str | None:
    """Why locking ``guard``'s code can change behaviour because of what the code calls
    (``containers``: what ``state_code`` gives for every guard of the file). A guard's
    replacement is built from its statement's own code, so the statement is what is read,
    with the state built in ``guard.local`` read as that local."""
    if not guard.reentrant:
        return None
    call = _unknown_call(guard.span, containers, _plain_class(guard), guard.local[0] if guard.local else None)
    if call is None:
        return None
    shown = f"`{_callee(ctx, call, guard.local)}()`"
    return (
        f"the lock is held while {shown} runs, code that can block, take other locks or be "
        "overridden: its callers are serialised and can deadlock"
    )


def lock_hazard(guard: Guard, class_wide: bool) -> str | None:
    """Why the chosen lock can change behaviour: one lock for all instances' state."""
    if guard.domain.kind == "instance" and class_wide:
        owner = guard.domain.owner.name
        return f"one lock shared by every `{owner}` instance guards per-instance state: instances now wait for each other"
    return None


def combined(*reasons: str | None) -> str | None:
    found = [r for r in reasons if r]
    return "; ".join(found) if found else None
