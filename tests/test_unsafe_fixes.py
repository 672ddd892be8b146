"""Fix safety through the CLI: `apply` writes safe fixes only; `--unsafe-fixes` (or
`unsafe-fixes = true` in [tool.ftmigrate]) also the unsafe ones; every format says which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import invoke

PRICES = (
    "hits = 0\nprices = {}\n\n\ndef price(item):\n    global hits\n    hits += 1\n"
    "    if item not in prices:\n        prices[item] = fetch(item)\n    return prices[item]\n\n\n"
    "def fetch(item):\n    return len(item)\n"
)
SAFE_ONLY = (
    "import threading\n\nhits = 0\n_hits_lock = threading.Lock()\nprices = {}\n\n\ndef price(item):\n    global hits\n"
    "    with _hits_lock:\n        hits += 1\n    if item not in prices:\n        prices[item] = fetch(item)\n"
    "    return prices[item]\n\n\ndef fetch(item):\n    return len(item)\n"
)
WITH_UNSAFE = (
    "import threading\n\nhits = 0\nprices = {}\n_prices_lock = threading.RLock()\n\n\ndef price(item):\n    global hits\n"
    "    with _prices_lock:\n        hits += 1\n        if item not in prices:\n            prices[item] = fetch(item)\n"
    "        return prices[item]\n\n\ndef fetch(item):\n    return len(item)\n"
)
HITS = "`hits` (module state) is read, modified and written without a lock; concurrent threads lose updates [confidence: medium]"
PRICES_MESSAGE = (
    "`prices` (module state) is tested and then changed without a lock; two threads can both pass the test (check-then-act) "
    "[confidence: medium]"
)
WHY = (
    "the lock is held while `fetch()` runs, code that can block, take other locks or be overridden: "
    "its callers are serialised and can deadlock"
)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "prices.py").write_text(PRICES)
    return tmp_path


def test_scan_marks_only_safe_fixes_and_counts_the_hidden_ones(shop):
    result = invoke("scan")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"pkg/prices.py:7:5: FT001 [*] {HITS}",
        f"pkg/prices.py:8:5: FT002 {PRICES_MESSAGE}",
        "Found 2 findings in 1 file (1 fixable with `ftmigrate apply`; 1 hidden fix can be enabled with the "
        "`--unsafe-fixes` option).",
    ]


def test_scan_with_unsafe_fixes_marks_both(shop):
    result = invoke("scan", "--unsafe-fixes")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"pkg/prices.py:7:5: FT001 [*] {HITS}",
        f"pkg/prices.py:8:5: FT002 [*] {PRICES_MESSAGE}",
        "Found 2 findings in 1 file (2 fixable with `ftmigrate apply --unsafe-fixes`).",
    ]


def test_apply_writes_the_safe_fix_and_says_why_the_other_waits(shop):
    result = invoke("apply")
    assert result.exit_code == 1  # a finding remains
    assert result.stdout.splitlines() == [
        f"pkg/prices.py:8:5: FT002 {PRICES_MESSAGE} (not fixed: unsafe fix, enabled with `--unsafe-fixes`: {WHY})",
        "fixed pkg/prices.py (1 fix)",
        "Fixed 1 finding in 1 file; 1 remaining (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]
    assert (shop / "pkg" / "prices.py").read_text() == SAFE_ONLY


def test_apply_unsafe_fixes_writes_both_under_one_lock(shop):
    result = invoke("apply", "--unsafe-fixes")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["fixed pkg/prices.py (2 fixes)", "Fixed 2 findings in 1 file; 0 remaining."]
    assert (shop / "pkg" / "prices.py").read_text() == WITH_UNSAFE


def test_config_turns_unsafe_fixes_on_and_the_command_line_off(shop):
    (shop / "pyproject.toml").write_text("[tool.ftmigrate]\nunsafe-fixes = true\n")
    assert invoke("scan").stdout.splitlines()[-1] == "Found 2 findings in 1 file (2 fixable with `ftmigrate apply --unsafe-fixes`)."
    off = invoke("apply", "--no-unsafe-fixes")
    assert off.exit_code == 1 and (shop / "pkg" / "prices.py").read_text() == SAFE_ONLY
    (shop / "pkg" / "prices.py").write_text(PRICES)
    assert invoke("apply").exit_code == 0 and (shop / "pkg" / "prices.py").read_text() == WITH_UNSAFE


def test_config_unsafe_fixes_must_be_a_boolean(shop):
    (shop / "pyproject.toml").write_text('[tool.ftmigrate]\nunsafe-fixes = "yes"\n')
    result = invoke("scan")
    assert result.exit_code == 2
    assert "[tool.ftmigrate] unsafe-fixes must be true or false" in result.stderr


def test_json_and_json_lines_carry_fix_safety(shop):
    findings = json.loads(invoke("scan", "--format", "json").stdout)["findings"]
    assert [(f["rule"], f["fixable"], f["fix_safety"]) for f in findings] == [("FT001", True, "safe"), ("FT002", True, "unsafe")]
    lines = [json.loads(line) for line in invoke("scan", "--format", "json-lines").stdout.splitlines()]
    assert [(f["rule"], f["fix_safety"]) for f in lines] == [("FT001", "safe"), ("FT002", "unsafe")]
    after = json.loads(invoke("apply", "--format", "json").stdout)["findings"]
    assert [(f["rule"], f["fixed"], f["fix_safety"]) for f in after] == [("FT001", True, "safe"), ("FT002", False, "unsafe")]


def test_sarif_attaches_fixes_only_where_apply_would_fix(shop):
    results = json.loads(invoke("scan", "--format", "sarif").stdout)["runs"][0]["results"]
    hits, prices = results
    assert hits["properties"] == {"fixable": True, "fix_safety": "safe", "confidence": "medium"} and "fixes" in hits
    assert prices["properties"] == {"fixable": True, "fix_safety": "unsafe", "unsafe_reason": WHY, "confidence": "medium"}
    assert "fixes" not in prices
    with_unsafe = json.loads(invoke("scan", "--format", "sarif", "--unsafe-fixes").stdout)["runs"][0]["results"]
    assert all("fixes" in result for result in with_unsafe)
    replaced = with_unsafe[1]["fixes"][0]["artifactChanges"][0]["replacements"]
    assert "".join(r["insertedContent"]["text"] for r in replaced[::-1]).count("_prices_lock") == 2


def test_github_annotations_say_which_fix(shop):
    assert invoke("scan", "--format", "github").stdout.splitlines() == [
        f"::warning file=pkg/prices.py,line=7,col=5,endLine=7,endColumn=14,title=FT001::{HITS} (safe fix: `ftmigrate apply`)",
        f"::warning file=pkg/prices.py,line=8,col=5,endLine=9,endColumn=35,title=FT002::{PRICES_MESSAGE} "
        f"(unsafe fix: `ftmigrate apply --unsafe-fixes`; {WHY})",
    ]


def test_statistics_count_only_applicable_fixes(shop):
    assert json.loads(invoke("scan", "--statistics", "--format", "json").stdout) == [
        {"code": "FT001", "name": "global-read-modify-write", "count": 1, "fixable": 1},
        {"code": "FT002", "name": "check-then-act", "count": 1, "fixable": 0},
    ]
    rows = invoke("scan", "--statistics", "--unsafe-fixes").stdout.splitlines()
    assert rows[:2] == ["1\tFT001\t[*] global-read-modify-write", "1\tFT002\t[*] check-then-act"]
