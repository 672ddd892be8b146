"""Before/after fixture pairs in testdata/<RULE>/: `<case>.before.py` -> `<case>.after.py`.

Compared byte for byte (encodings and line endings included) after a real `apply` on a
temp copy, then applied again to prove the rewrite is idempotent. A fixture runs with its
folder's rule only, unless its text says `ftmigrate-test: select=FT001,FT004`; a text
saying `ftmigrate-test: shared-classes=Cache,Pool` runs as if the config listed them, and
`ftmigrate-test: min-confidence=low` as if it set that level (the default is the CLI's).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codemods import select_rules
from ftmigrate.config import Config
from ftmigrate.runner import APPLY, SCAN, run
from tests.conftest import TESTDATA

CASES = sorted(TESTDATA.glob("FT*/*.before.py"))


def _directive(before: bytes, key: str) -> list[str] | None:
    match = re.search(rb"ftmigrate-test: " + key.encode() + rb"=([\w,]+)", before)
    return match.group(1).decode().split(",") if match else None


def _select(case: Path, before: bytes) -> list[str]:
    return _directive(before, "select") or [case.parent.name]


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name.removesuffix('.before.py')}")
def test_fixture_pair(case: Path, tmp_path: Path):
    before = case.read_bytes()
    expected = case.with_name(case.name.replace(".before.py", ".after.py")).read_bytes()
    rules = select_rules(_select(case, before), [])
    target = tmp_path / case.name
    target.write_bytes(before)
    config = Config(root=tmp_path, shared_classes=_directive(before, "shared-classes") or [])
    config.min_confidence = (_directive(before, "min-confidence") or [config.min_confidence])[0]

    first = run([target], rules, config, APPLY)
    assert [r.error for r in first.results] == [None]
    assert target.read_bytes() == expected
    compile(expected, str(case), "exec")

    second = run([target], rules, config, APPLY)
    assert second.changed == [] and target.read_bytes() == expected
    assert [f for f in run([target], rules, config, SCAN).findings if f.fixable] == []


def test_every_rule_has_enough_fixture_pairs():
    from codemods import ALL_RULES

    for rule in ALL_RULES:
        pairs = list((TESTDATA / rule.code).glob("*.before.py"))
        assert len(pairs) >= 12, f"{rule.code} has {len(pairs)} fixture pairs"
        for before in pairs:
            assert before.with_name(before.name.replace(".before.py", ".after.py")).exists(), before
