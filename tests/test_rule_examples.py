"""Every rule's own VALID and INVALID examples, run for every rule (Fixit style)."""

from __future__ import annotations

import pytest

from codemods import ALL_RULES
from tests.helpers import check_text, fixed_text

VALID = [pytest.param(rule, code, id=f"{rule.code}-valid-{i}") for rule in ALL_RULES for i, code in enumerate(rule.VALID)]
INVALID = [pytest.param(rule, ex, id=f"{rule.code}-invalid-{i}") for rule in ALL_RULES for i, ex in enumerate(rule.INVALID)]


@pytest.mark.parametrize("rule, code", VALID)
def test_valid_examples_have_no_findings(rule, code):
    result = check_text(code, fix=False, select=[rule.code])
    assert result.error is None
    assert result.findings == []


@pytest.mark.parametrize("rule, example", INVALID)
def test_invalid_examples_are_reported_and_fixed(rule, example):
    result = check_text(example.code, fix=False, select=[rule.code])
    assert result.error is None
    assert [f.rule for f in result.findings] and {f.rule for f in result.findings} == {rule.code}
    if example.fixed is None:
        assert not any(f.fixable for f in result.findings)
        assert fixed_text(example.code, select=[rule.code]) == example.code
    elif example.unsafe:
        assert "unsafe" in {f.fix_safety for f in result.findings}
        assert fixed_text(example.code, select=[rule.code]) == example.code
        assert fixed_text(example.code, select=[rule.code], unsafe_fixes=True) == example.fixed
        assert check_text(example.fixed, fix=False, select=[rule.code], unsafe_fixes=True).findings == []
    else:
        assert {f.fix_safety for f in result.findings} == {"safe"}
        assert fixed_text(example.code, select=[rule.code]) == example.fixed
        # idempotent: the fixed code has nothing left to fix
        assert check_text(example.fixed, fix=False, select=[rule.code]).findings == []


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_metadata_and_docs(rule):
    assert rule.code.startswith("FT") and len(rule.code) == 5
    assert rule.name and rule.summary and rule.tokens
    docs = rule.docs()
    for heading in ("## What it does", "## Why is this bad under free-threading?", "## Example", "## Use instead", "## Fix safety"):
        assert heading in docs, f"{rule.code} docs lack {heading!r}"
    assert "RWLock" not in docs
    assert rule.VALID and rule.INVALID
