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

import builtins
from typing import TYPE_CHECKING, Iterable

import libcst as cst

from ftmigrate.analysis import SAFE_CALLS, dotted
from ftmigrate.treewalk import walk

if TYPE_CHECKING:
    from ftmigrate.locking import Guard

SAFE, UNSAFE = "safe", "unsafe"


_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException))


def _object_new(call: cst.Call) -> bool:
    """``super().__new__(cls)`` / ``object.__new__(cls)``: ``object``'s allocation, no user code."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__new__" and len(call.args) == 1):
        return False
    owner = func.value
    if isinstance(owner, cst.Name):
        return owner.value == "object"
    return isinstance(owner, cst.Call) and isinstance(owner.func, cst.Name) and owner.func.value == "super" and not owner.args


def _plain_class(guard: Guard) -> bool:
    """The state's class derives from ``object`` only: its ``super().__new__`` is ``object``'s."""
    owner = guard.domain.owner
    return isinstance(owner, cst.ClassDef) and all(dotted(base.value) == "object" for base in owner.bases) and not owner.keywords


def _unknown_call(stmts: Iterable[cst.CSTNode], containers: frozenset[str], plain_class: bool = False) -> cst.Call | None:
    """The first call in ``stmts`` to code ftmigrate cannot see: not a safe builtin, not a
    built-in exception (``raise KeyError(k)``), not a method of guarded state (``containers``:
    ``seen``, ``self._cache``: the containers the fixes of the file lock)."""
    for stmt in stmts:
        for node in walk(stmt):
            if not isinstance(node, cst.Call):
                continue
            func = node.func
            if isinstance(func, cst.Name) and (func.value in SAFE_CALLS or func.value in _EXCEPTIONS or func.value in ("hasattr", "getattr")):
                continue
            if isinstance(func, cst.Attribute) and dotted(func.value) in containers:
                continue
            if plain_class and (_object_new(node) or (isinstance(func, cst.Name) and func.value == "super" and not node.args)):
                continue
            return node
    return None


def _callee(call: cst.Call) -> str:
    code = cst.Module(body=[]).code_for_node(call.func)
    return code if len(code) <= 40 else code[:37] + "..."


def state_code(guard: Guard) -> str:
    """How ``guard``'s code spells its state: ``seen``, ``self._cache``."""
    return f"{guard.receiver}.{guard.state}" if guard.receiver else guard.state


def code_hazard(guard: Guard, containers: frozenset[str]) -> str | None:
    """Why locking ``guard``'s code can change behaviour because of what the code calls
    (``containers``: what ``state_code`` gives for every guard of the file)."""
    if not guard.reentrant:
        return None
    target = guard.stmt if guard.replacement is None else guard.replacement
    call = _unknown_call((*guard.leaders, target, *guard.followers), containers, _plain_class(guard))
    if call is None:
        return None
    shown = f"`{_callee(call)}()`"
    return (
        f"the lock is held while {shown} runs, code that can block, take other locks or be "
        "overridden: its callers are serialised and can deadlock"
    )


def lock_hazard(guard: Guard, class_wide: bool) -> str | None:
    """Why the chosen lock can change behaviour: one lock for all instances' state."""
    if guard.domain.kind == "instance" and class_wide:
        owner = guard.domain.owner.name.value
        return f"one lock shared by every `{owner}` instance guards per-instance state: instances now wait for each other"
    return None


def combined(*reasons: str | None) -> str | None:
    found = [r for r in reasons if r]
    return "; ".join(found) if found else None
