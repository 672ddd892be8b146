"""`ftmigrate rules`, `ftmigrate explain` and the README's rule section: all generated from
the rule classes, for however many rules are registered."""

from __future__ import annotations

import json
import re

import pytest

from codemods import ALL_RULES
from ftmigrate import ruledocs
from ftmigrate.rules import Example
from tests.conftest import REPO
from tests.test_cli import invoke

HEADINGS = ("What it does", "Why is this bad under free-threading?", "Example", "Use instead", "Fix safety")


def test_rules_table_has_one_row_per_registered_rule():
    result = invoke("rules")
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert re.split(r"\s{2,}", header) == ["code", "name", "fixable", "summary"]
    assert [re.split(r"\s{2,}", row, maxsplit=3) for row in rows] == [
        [rule.code, rule.name, "yes" if rule.fixable() else "no", rule.summary] for rule in ALL_RULES
    ]
    assert rows[0].split() [:3] == ["FT001", "global-read-modify-write", "yes"]


def test_rules_json():
    data = json.loads(invoke("rules", "--format", "json").stdout)
    assert [row["code"] for row in data] == [rule.code for rule in ALL_RULES]
    assert data[0] == {
        "code": "FT001",
        "name": "global-read-modify-write",
        "fixable": True,
        "summary": "`global`/`nonlocal` read-modify-write without a lock",
        "help_uri": f"{ruledocs.README_URL}#ft001-global-read-modify-write",
    }


def test_rules_markdown_table_and_anchored_sections():
    markdown = invoke("rules", "--format", "markdown").stdout
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert table[:2] == ["| code | name | fix | summary |", "| --- | --- | --- | --- |"]
    assert table[2] == (
        "| [FT001](#ft001-global-read-modify-write) | global-read-modify-write | yes | "
        "`global`/`nonlocal` read-modify-write without a lock |"
    )
    assert len(table) == 2 + len(ALL_RULES)
    for rule in ALL_RULES:
        assert f"\n### {rule.code} {rule.name}\n" in markdown
        assert f"`ftmigrate explain {rule.code}`" in markdown


def test_github_anchor_matches_githubs_slugs():
    assert ruledocs.github_anchor("FT001 global-read-modify-write") == "ft001-global-read-modify-write"
    assert ruledocs.github_anchor("Why is this bad under free-threading?") == "why-is-this-bad-under-free-threading"


def test_readme_rule_section_is_generated_and_current():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert ruledocs.readme_rules_block(readme) == ruledocs.rules_markdown(ALL_RULES), (
        "README.md's rule section is stale. Regenerate it: run "
        f"`{ruledocs.REGENERATE_COMMAND}` (it rewrites the part between "
        f"{ruledocs.README_START} and {ruledocs.README_END})."
    )


def test_with_rules_block_rewrites_only_the_marked_block():
    readme = f"intro\n{ruledocs.README_START}\nold table\n{ruledocs.README_END}\noutro\n"
    updated = ruledocs.with_rules_block(readme, ALL_RULES)
    assert updated.startswith(f"intro\n{ruledocs.README_START}\n| code |")
    assert updated.endswith(f"{ruledocs.README_END}\noutro\n")
    assert ruledocs.readme_rules_block(updated) == ruledocs.rules_markdown(ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_explain_every_rule_piped_is_markdown_with_its_first_examples(rule):
    result = invoke("explain", rule.code.lower())
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith(f"# {rule.code} {rule.name}\n\n{rule.summary}\n")
    for heading in HEADINGS:
        assert f"\n## {heading}\n" in text
    assert rule.docs() in text
    examples = text.split("## Tested examples", 1)[1]
    assert f"Not reported:\n\n```python\n{rule.VALID[0].rstrip()}\n```" in examples
    assert f"Reported:\n\n```python\n{rule.INVALID[0].code.rstrip()}\n```" in examples
    if rule.INVALID[0].fixed is not None:
        assert f"`ftmigrate apply` makes it:\n\n```python\n{rule.INVALID[0].fixed.rstrip()}\n```" in examples
        assert "Fix: automatic" in text
    else:
        assert "no automatic fix" in examples


def test_explain_on_a_terminal_is_rendered(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    result = invoke("explain", "FT001")
    assert result.exit_code == 0
    out = result.stdout
    assert "\x1b[" in out  # styled
    assert "# FT001" not in out and "```" not in out  # markdown syntax rendered away
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    assert "FT001 global-read-modify-write" in plain and "Fix safety" in plain
    assert "_counter_lock = threading.Lock()" in plain


def test_explain_unknown_rule_exits_2():
    result = invoke("explain", "FT999")
    assert result.exit_code == 2
    assert "unknown rule 'FT999' (known: FT001" in result.stderr
    assert result.stdout == ""


class _ReportOnly(ALL_RULES[0]):
    """
    ## What it does
    Finds `a | b` (a made-up rule: the docs must work for any rule).

    ## Why is this bad under free-threading?
    It is not.

    ## Example
    ```python
    a | b
    ```

    ## Use instead
    ```python
    b | a
    ```

    ## Fix safety
    There is no fix.
    """

    code = "FT999"
    name = "made-up-rule"
    summary = "`a | b` somewhere"
    VALID = ["b\n"]
    INVALID = [Example("a | b\n", None)]


def test_docs_work_for_any_rule_including_report_only_ones():
    rules = [ALL_RULES[0], _ReportOnly]
    assert ruledocs.rules_text(rules).splitlines()[-1].split()[:3] == ["FT999", "made-up-rule", "no"]
    markdown = ruledocs.rules_markdown(rules)
    assert "| [FT999](#ft999-made-up-rule) | made-up-rule | no | `a \\| b` somewhere |" in markdown
    assert "\n### FT999 made-up-rule\n\nFinds `a | b` (a made-up rule: the docs must work for any rule).\n" in markdown
    explained = ruledocs.explain_markdown(_ReportOnly)
    assert "Fix: none; findings are reported only." in explained
    assert explained.endswith("Reported:\n\n```python\na | b\n```\n\n`ftmigrate apply` leaves it unchanged (no automatic fix).\n")
