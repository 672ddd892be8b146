"""Existing locking, for every rule: each recognised form of lock hides a finding; a new
finding on other state gets a dedicated lock, never the one the function happens to hold;
an unlocked site of state that a proven ``threading`` lock guards elsewhere gets that lock,
and one that another lock guards elsewhere is not fixed.

The tests are the product of two tables: ``RULE_CASES`` (one racy statement per rule and
kind of state; a new rule adds its rows) and ``LOCK_FORMS`` (every way of holding a lock
that ``ftmigrate.analysis`` documents). Each case runs inside a method of ``Service``, a
class with lock attributes (so its instances count as shared between threads).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import pytest

from tests.helpers import check_text, fixed_text

MODULE = """\
import threading
from threading import Lock as _Lock
from .sync import LOCK
{state}

lock = threading.Lock()
guard = threading.RLock()
door = _Lock()
cond = threading.Condition()
sem = threading.Semaphore(1)
bsem = threading.BoundedSemaphore(1)


def synchronized(func):
    return func


class Service:
    _lock = threading.Lock()
    total = 0
    count = 0

    def __init__(self):
        self._mutex = threading.Lock()
        self.hits = 0
        self.misses = 0

{method}"""


@dataclass(frozen=True)
class RuleCase:
    """A racy ``statement`` of ``rule`` (and ``other``, on other state of the same domain)."""

    id: str
    rule: str
    domain: str  # "module" | "instance" | "class": where the lock for the state lives
    statement: str
    other: str
    state: str = ""  # module-level code the statements need
    declare: str = ""  # first line of the method body, e.g. "global counter"


RULE_CASES = [
    RuleCase("FT001-global", "FT001", "module", "counter += 1", "errors += 1", "counter = 0\nerrors = 0", "global counter, errors"),
    RuleCase(
        "FT002-module-container",
        "FT002",
        "module",
        "if k not in seen:\n    seen.append(k)",
        "if k not in heard:\n    heard.append(k)",
        "seen = []\nheard = []",
    ),
    RuleCase(
        "FT003-lazy-global",
        "FT003",
        "module",
        "if _client is None:\n    _client = make_client()",
        "if _pool is None:\n    _pool = make_pool()",
        "_client = None\n_pool = None",
        "global _client, _pool",
    ),
    RuleCase("FT004-module-item", "FT004", "module", "stats[k] += 1", "sizes[k] += 1", "stats = {}\nsizes = {}"),
    RuleCase("FT004-module-attribute", "FT004", "module", "config.retries -= 1", "config.failures += 1", "import config"),
    RuleCase("FT004-instance-attribute", "FT004", "instance", "self.hits += 1", "self.misses += 1"),
    RuleCase("FT004-class-attribute", "FT004", "class", "Service.total += 1", "Service.count += 1"),
]


@dataclass(frozen=True)
class LockForm:
    """A way of holding a lock around ``{stmt}``; ``reuse``: the lock expression an
    unlocked site of the same state in another method gets, per domain (None: the lock is
    not proven there, so a new lock is right)."""

    id: str
    block: str
    reuse: dict = field(default_factory=dict)
    decorator: str = ""
    classmethod: bool = False
    caller: str = ""  # the method is private (`_work`), and only called by this code

    @property
    def whole_function(self) -> bool:
        """The whole method runs under the lock: every statement in it is guarded."""
        return bool(self.decorator or self.caller)


def _module_lock(code: str) -> dict:
    return {"module": code, "instance": code, "class": code}


# A class lock guards class and instance state; module state needs a module-level lock.
_CLASS_LOCK = {"module": None, "instance": "self._lock", "class": "Service._lock"}
_UNPROVEN = {"module": None, "instance": None, "class": None}

LOCK_FORMS = [
    LockForm("with-lock", "with lock:\n    {stmt}", _module_lock("lock")),
    LockForm("with-lock-as", "with lock as held:\n    {stmt}", _module_lock("lock")),
    LockForm("with-several-items", "with open(k) as fh, lock:\n    {stmt}", _module_lock("lock")),
    LockForm("with-lock-nested-block", "with lock:\n    for _ in range(3):\n        if k:\n            {stmt}", _module_lock("lock")),
    LockForm("bound-elsewhere-rlock", "with guard:\n    {stmt}", _module_lock("guard")),
    LockForm("bound-by-from-import", "with door:\n    {stmt}", _module_lock("door")),
    LockForm("condition", "with cond:\n    {stmt}", _module_lock("cond")),
    LockForm("semaphore", "with sem:\n    {stmt}", _module_lock("sem")),
    LockForm("bounded-semaphore", "with bsem:\n    {stmt}", _module_lock("bsem")),
    LockForm("imported-lock", "with LOCK:\n    {stmt}", _UNPROVEN),  # not bound to a threading lock here
    LockForm("acquire-try-finally", "lock.acquire()\ntry:\n    {stmt}\nfinally:\n    lock.release()", _module_lock("lock")),
    LockForm("acquire-in-try", "try:\n    lock.acquire()\n    {stmt}\nfinally:\n    lock.release()", _module_lock("lock")),
    LockForm("acquire-release", "lock.acquire()\n{stmt}\nlock.release()", _module_lock("lock")),
    LockForm("with-self-lock", "with self._lock:\n    {stmt}", _CLASS_LOCK),
    LockForm("with-self-instance-lock", "with self._mutex:\n    {stmt}", {"module": None, "instance": "self._mutex", "class": None}),
    LockForm("with-class-name-lock", "with Service._lock:\n    {stmt}", {**_CLASS_LOCK, "module": "Service._lock"}),
    LockForm("with-cls-lock", "with cls._lock:\n    {stmt}", {"module": None, "class": "Service._lock"}, classmethod=True),
    LockForm("synchronized-decorator", "{stmt}", decorator="@synchronized"),
    LockForm("synchronized-decorator-call", "{stmt}", decorator="@synchronized(lock)"),
    LockForm("locked-decorator", "{stmt}", decorator="@with_lock"),
    LockForm("callers-hold-lock", "{stmt}", _module_lock("lock"), caller="def work(self, k):\n    with lock:\n        self._work(k)\n\ndef work_twice(self, k):\n    with lock:\n        self._work(k)\n        self._work(k)\n"),
    LockForm("callers-hold-lock-via-private-chain", "{stmt}", _CLASS_LOCK, caller="def work(self, k):\n    with self._lock:\n        self._step(k)\n\ndef _step(self, k):\n    self._work(k)\n"),
]

PAIRS = [
    pytest.param(case, form, id=f"{case.id}-{form.id}")
    for case in RULE_CASES
    for form in LOCK_FORMS
    if not (form.classmethod and case.domain == "instance")
]


def _fill(block: str, stmt: str) -> str:
    """``block`` with its ``{stmt}`` line replaced by ``stmt``, indented like that line."""
    lines = []
    for line in block.splitlines():
        if line.strip() == "{stmt}":
            indent = line[: line.index("{stmt}")]
            lines += [indent + s for s in stmt.splitlines()]
        else:
            lines.append(line)
    return "\n".join(lines)


def _source(case: RuleCase, form: LockForm, body: str, unlocked_again: bool = False) -> str:
    """The module with ``body`` in a method; with ``unlocked_again``, a second method runs
    ``case.statement`` without a lock."""
    lines = form.caller.splitlines() + [""] if form.caller else []
    lines += [form.decorator] if form.decorator else []
    name = "_work" if form.caller else "work"
    lines += ["@classmethod", f"def {name}(cls, k):"] if form.classmethod else [f"def {name}(self, k):"]
    if case.declare:
        lines.append("    " + case.declare)
    lines.append(textwrap.indent(body, "    "))
    if unlocked_again:
        lines += ["", "@classmethod", "def again(cls, k):"] if form.classmethod else ["", "def again(self, k):"]
        lines += ["    " + case.declare] if case.declare else []
        lines.append(textwrap.indent(case.statement, "    "))
    method = textwrap.indent("\n".join(lines) + "\n", "    ")
    return MODULE.format(state=case.state, method=method)


def _findings(code: str, rule: str) -> list:
    result = check_text(code, fix=False, select=[rule])
    assert result.error is None, result.error
    return result.findings


@pytest.mark.parametrize("case", RULE_CASES, ids=lambda c: c.id)
def test_unlocked_statement_is_reported(case: RuleCase):
    code = _source(case, LockForm("none", "{stmt}"), case.statement)
    findings = _findings(code, case.rule)
    assert [(f.rule, f.fixable) for f in findings] == [(case.rule, True)]
    assert fixed_text(code, select=[case.rule], unsafe_fixes=True) != code


@pytest.mark.parametrize("case, form", PAIRS)
def test_locked_statement_is_not_reported(case: RuleCase, form: LockForm):
    code = _source(case, form, _fill(form.block, case.statement))
    assert _findings(code, case.rule) == []
    assert fixed_text(code, select=[case.rule], unsafe_fixes=True) == code


def _with_lines_around(code: str, statement: str) -> list[str]:
    """The ``with`` headers enclosing the (last) line holding ``statement``'s last line, outermost first."""
    lines = code.splitlines()
    last = statement.splitlines()[-1].strip()
    index = max(i for i, line in enumerate(lines) if line.strip() == last)
    indent = len(lines[index]) - len(lines[index].lstrip())
    found = []
    for line in reversed(lines[:index]):
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if stripped and depth < indent:
            indent = depth
            if stripped.startswith("with "):
                found.append(stripped)
            if stripped.startswith("def "):
                break
    return found[::-1]


def _new_locks(fixed: str, code: str) -> list[str]:
    return [line for line in fixed.splitlines() if re.fullmatch(r"\s*\w+ = [\w.]*Lock\(\)", line) and line not in code]


@pytest.mark.parametrize("case, form", PAIRS)
def test_new_finding_on_other_state_gets_a_dedicated_lock(case: RuleCase, form: LockForm):
    code = _source(case, form, _fill(form.block, case.statement) + "\n" + case.other)
    fixed = fixed_text(code, select=[case.rule], unsafe_fixes=True)
    if form.whole_function:  # nothing to report or fix
        assert fixed == code
        return
    new_locks = _new_locks(fixed, code)
    assert len(new_locks) == 1, fixed
    new_name = new_locks[0].split("=")[0].strip()
    # One lock around the new finding: the new one, not the lock held for other state.
    outer = _with_lines_around(fixed, case.other)
    assert len(outer) == 1 and outer[0].endswith(f"{new_name}:"), fixed
    # The statement that was locked already is left exactly as it was.
    assert _with_lines_around(fixed, case.statement) == _with_lines_around(code, case.statement)
    assert _findings(fixed, case.rule) == []


@pytest.mark.parametrize("case, form", PAIRS)
def test_unlocked_site_of_state_locked_elsewhere_gets_that_lock_or_no_fix(case: RuleCase, form: LockForm):
    """The lock that guards the state elsewhere, when it is a proven threading lock there;
    else no fix (a new lock would not exclude the code under the other one), with the reason."""
    code = _source(case, form, _fill(form.block, case.statement), unlocked_again=True)
    fixed = fixed_text(code, select=[case.rule], unsafe_fixes=True)  # which lock, not whether it is safe
    expected = form.reuse.get(case.domain)
    if expected is None:
        assert fixed == code
        [finding] = _findings(code, case.rule)
        assert not finding.fixable and " is locked elsewhere by " in finding.unfixable_reason, finding
        assert finding.unfixable_reason.endswith("which is not a proven threading lock here; a new lock would not exclude that code")
        return
    outer = _with_lines_around(fixed, case.statement)  # the last one: in again()
    assert _new_locks(fixed, code) == [], fixed
    assert outer == [f"with {expected}:"], fixed
    assert _findings(fixed, case.rule) == []


UNSURE_CALLERS = {
    "one-caller-without-the-lock": "def work(self, k):\n    with lock:\n        self._work(k)\n\ndef sneak(self, k):\n    self._work(k)\n",
    "callers-hold-different-locks": "def work(self, k):\n    with lock:\n        self._work(k)\n\ndef other(self, k):\n    with guard:\n        self._work(k)\n",
    "passed-as-a-callback": "def work(self, k):\n    with lock:\n        self._work(k)\n\ndef later(self, pool):\n    pool.submit(self._work, 1)\n",
}


@pytest.mark.parametrize("callers", UNSURE_CALLERS.values(), ids=list(UNSURE_CALLERS))
@pytest.mark.parametrize("case", RULE_CASES, ids=lambda c: c.id)
def test_a_private_helper_is_reported_unless_every_caller_holds_the_same_lock(case: RuleCase, callers: str):
    code = _source(case, LockForm("unsure", "{stmt}", caller=callers), case.statement)
    assert [f.rule for f in _findings(code, case.rule)] == [case.rule]
