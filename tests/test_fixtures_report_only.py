"""The fixture pairs whose before and after files are identical: the exact finding each one
reports without fixing it (rule, line, why it is not fixed), or that it reports nothing.

The table is written by hand from reading each fixture, not taken from the tool's output:
a rule that stops reporting (or starts fixing) one of these cases fails here, where
test_fixtures.py alone would only see that nothing fixable is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods import select_rules
from ftmigrate.config import Config
from ftmigrate.runner import APPLY, SCAN, run
from tests.conftest import TESTDATA
from tests.test_fixtures import _directive, _select

DEADLOCK = "taking that lock again here would deadlock"
NOTHING: list = []

# "FT00x/case": [(rule, line, reason the fix is refused)], or NOTHING (and why, in a comment).
REPORT_ONLY = {
    "FT001/already_locked": NOTHING,  # the update is under `with lock:`
    "FT001/await_not_fixed": [("FT001", 6, "the statement awaits or yields; a thread lock must not be held across it")],
    "FT001/called_under_lock": [("FT001", 12, f"`bump` is called while `lock` is held (line 20); {DEADLOCK}")],
    "FT001/module_level_only": NOTHING,
    "FT001/reentrant_call_safe_only": [  # without --unsafe-fixes: the lock would be held while price() runs
        (
            "FT001",
            8,
            "unsafe fix, enabled with `--unsafe-fixes`: the lock is held while `price()` runs, code that can block, "
            "take other locks or be overridden: its callers are serialised and can deadlock",
        )
    ],  # module-level code runs once, under the import lock
    "FT001/suppressed": NOTHING,  # `# ftmigrate: ignore[FT001]` and `# ftmigrate: ignore`
    "FT002/already_locked": NOTHING,  # test and change both under `with _lock:`
    "FT002/deadlock_refused": [
        ("FT002", 14, "it calls _load(), which takes `self._lock` too; holding that lock here would deadlock")
    ],
    "FT002/local_container": NOTHING,  # `seen` and `out` are created in the function
    "FT002/lock_helper_functions": NOTHING,  # _acquireLock()/_releaseLock() around the test and change
    "FT002/lock_inside_not_fixed": [("FT002", 8, "a branch already takes `lock`; move the test under that lock by hand")],
    "FT002/suppressed": NOTHING,  # `# ftmigrate: ignore[FT002]` on the `if`
    "FT003/already_double_checked": NOTHING,  # double-checked under `cls._lock` already
    "FT003/caller_holds_lock": [("FT003", 10, f"`index` is called while `self._lock` is held (line 16); {DEADLOCK}")],
    "FT003/eager_module_instance": NOTHING,  # created at import, not lazily
    "FT003/else_branch": [
        ("FT003", 6, "the `if` has an `else`/`elif` branch, which double-checked locking would run at the wrong time")
    ],
    "FT003/half_built_unfixable": [
        (
            "FT003",
            6,
            "`_register_hooks()` reads `_engine` after it is assigned and before the block ends, so `_engine` "
            "cannot be assigned last; finish building the object before publishing it",
        )
    ],
    "FT003/instance_attr_no_lock": [
        (
            "FT003",
            11,
            "`Poller` has no lock to guard `self._session` with; add one in `__init__` "
            "(`self._lock = threading.Lock()`) and check again under it",
        )
    ],
    "FT003/local_variable": NOTHING,  # `result` is a local
    "FT003/lru_cache_factory": [  # `lookup(key)` (line 16) takes an argument: a real cache, not reported
        (
            "FT003",
            5,
            "`functools.lru_cache` cannot be made to call `get_settings()` only once; create the object lazily "
            "in a global under double-checked locking instead",
        ),
        (
            "FT003",
            10,
            "`functools.lru_cache` cannot be made to call `get_pool()` only once; create the object lazily "
            "in a global under double-checked locking instead",
        ),
    ],
    "FT003/or_attribute_report_only": [
        (
            "FT003",
            6,
            "`cls._pool = cls._pool or ...` also stores the old value back, which for an attribute can copy an "
            "inherited class attribute or run a property setter; rewrite it as `if not cls._pool: ...` by hand, "
            "then apply again",
        )
    ],
    "FT004/not_shared": NOTHING,  # `Point` is not handed to threads and has no lock
    "FT004/thread_confined": NOTHING,  # only each thread's own run() updates its counters
}

# The suppressed cases report these once their suppression comments are taken out.
UNSUPPRESSED = {"FT001/suppressed": [("FT001", 7), ("FT001", 8)], "FT002/suppressed": [("FT002", 5), ("FT002", 10)]}


def _case(name: str) -> Path:
    return TESTDATA / f"{name}.before.py"


def _scan(case: Path, before: bytes, tmp_path: Path, mode=SCAN):
    target = tmp_path / case.name
    target.write_bytes(before)
    config = Config(root=tmp_path, shared_classes=_directive(before, "shared-classes") or [])
    report = run([target], select_rules(_select(case, before), []), config, mode)
    assert [r.error for r in report.results] == [None]
    return report.findings, target


def test_the_table_lists_exactly_the_identical_pairs():
    identical = {
        f"{p.parent.name}/{p.name.removesuffix('.before.py')}"
        for p in TESTDATA.glob("FT*/*.before.py")
        if p.read_bytes() == p.with_name(p.name.replace(".before.py", ".after.py")).read_bytes()
    }
    assert identical == set(REPORT_ONLY)


@pytest.mark.parametrize("name", REPORT_ONLY)
def test_report_only_finding(name: str, tmp_path: Path):
    case = _case(name)
    before = case.read_bytes()
    findings, _ = _scan(case, before, tmp_path)
    assert [(f.rule, f.line, f.unfixable_reason) for f in findings] == REPORT_ONLY[name]
    assert not any(f.fixable and f.fix_safety != "unsafe" for f in findings)  # unsafe: held back by default

    findings, target = _scan(case, before, tmp_path, APPLY)
    assert [(f.rule, f.line, f.fixed) for f in findings] == [(rule, line, False) for rule, line, _ in REPORT_ONLY[name]]
    assert target.read_bytes() == before


@pytest.mark.parametrize("name", UNSUPPRESSED)
def test_suppressed_cases_report_without_their_comments(name: str, tmp_path: Path):
    case = _case(name)
    text = case.read_text()
    assert "# ftmigrate: ignore" in text
    bare = "\n".join(line.split("  # ftmigrate: ignore")[0] for line in text.splitlines()) + "\n"
    findings, _ = _scan(case, bare.encode(), tmp_path)
    assert [(f.rule, f.line) for f in findings] == UNSUPPRESSED[name]
