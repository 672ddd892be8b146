"""Rule documentation, generated from the rule classes in ``codemods/``.

``ftmigrate rules``, ``ftmigrate explain``, the README's rule table and the rule entries of
SARIF output all come from here, and here only from each rule's ``code``, ``name``,
``summary``, docstring and ``VALID``/``INVALID`` examples: written once, used everywhere.
"""

from __future__ import annotations

import json
import re
from typing import Sequence

from ftmigrate.rules import Rule

# Where the README is published; rule help links point at its per-rule headings.
README_URL = "https://github.com/ftmigrate/ftmigrate/blob/main/README.md"
REGENERATE_COMMAND = "python scripts/update_readme_rules.py"
README_START = "<!-- rules-table:start -->"
README_END = "<!-- rules-table:end -->"

_HEADING = re.compile(r"^## (.+)$", re.M)


def sections(rule: type[Rule]) -> dict[str, str]:
    """The docstring's ``## Heading`` sections, heading -> body (stripped), in order."""
    docs = rule.docs()
    parts = _HEADING.split(docs)
    return {heading.strip(): body.strip() for heading, body in zip(parts[1::2], parts[2::2])}


def what_it_does(rule: type[Rule]) -> str:
    return sections(rule).get("What it does", rule.summary)


def heading(rule: type[Rule]) -> str:
    return f"{rule.code} {rule.name}"


def github_anchor(title: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def help_uri(rule: type[Rule]) -> str:
    return f"{README_URL}#{github_anchor(heading(rule))}"


def fixable_word(rule: type[Rule]) -> str:
    return "yes" if rule.fixable() else "no"


def plain_text(markdown: str) -> str:
    """Markdown as plain text for places that cannot render it: headings lose their '#',
    fenced code is indented by four spaces instead."""
    out, in_code = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            out.append("    " + line if line else "")
        elif line.startswith("#"):
            out.append(line.lstrip("#").strip())
        else:
            out.append(line)
    return "\n".join(out)


def rules_text(rules: Sequence[type[Rule]]) -> str:
    """Aligned columns for a terminal: code, name, fixable, summary."""
    rows = [("code", "name", "fixable", "summary")]
    rows += [(r.code, r.name, fixable_word(r), r.summary) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3] for row in rows
    )


def rules_json(rules: Sequence[type[Rule]]) -> str:
    data = [
        {"code": r.code, "name": r.name, "fixable": r.fixable(), "summary": r.summary, "help_uri": help_uri(r)}
        for r in rules
    ]
    return json.dumps(data, indent=2)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rules_markdown(rules: Sequence[type[Rule]]) -> str:
    """The README's rule reference: a table, then one short section per rule (the anchors
    that rule help links point at)."""
    lines = ["| code | name | fix | summary |", "| --- | --- | --- | --- |"]
    for r in rules:
        link = f"[{r.code}](#{github_anchor(heading(r))})"
        lines.append(f"| {link} | {_cell(r.name)} | {fixable_word(r)} | {_cell(r.summary)} |")
    for r in rules:
        lines += ["", f"### {heading(r)}", "", what_it_does(r), "", f"Full documentation and examples: `ftmigrate explain {r.code}`."]
    return "\n".join(lines) + "\n"


def readme_rules_block(readme: str) -> str:
    """The text between the README's rule-table markers."""
    start = readme.index(README_START) + len(README_START)
    return readme[start : readme.index(README_END, start)].strip("\n") + "\n"


def with_rules_block(readme: str, rules: Sequence[type[Rule]]) -> str:
    """``readme`` with its rule block regenerated."""
    start = readme.index(README_START) + len(README_START)
    end = readme.index(README_END, start)
    return readme[:start] + "\n" + rules_markdown(rules) + readme[end:]


def explain_markdown(rule: type[Rule]) -> str:
    """Everything about one rule: summary, fixability, the docstring, and the first VALID and
    INVALID examples of the test suite (so the examples shown are known to be true)."""
    fix = "automatic, with `ftmigrate apply`" if rule.fixable() else "none; findings are reported only"
    parts = [f"# {heading(rule)}", "", rule.summary, "", f"Fix: {fix}.", "", rule.docs(), "", "## Tested examples"]
    if rule.VALID:
        parts += ["", "Not reported:", "", _code(rule.VALID[0])]
    if rule.INVALID:
        example = rule.INVALID[0]
        parts += ["", "Reported:", "", _code(example.code)]
        if example.fixed is None:
            parts += ["", "`ftmigrate apply` leaves it unchanged (no automatic fix)."]
        elif example.unsafe:
            parts += ["", "An unsafe fix: `ftmigrate apply` leaves it unchanged; `ftmigrate apply --unsafe-fixes` makes it:"]
            parts += ["", _code(example.fixed)]
        else:
            parts += ["", "`ftmigrate apply` makes it:", "", _code(example.fixed)]
    return "\n".join(parts) + "\n"


def _code(source: str) -> str:
    return f"```python\n{source.rstrip()}\n```"
