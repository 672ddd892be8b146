"""Inline suppression: ``# ftmigrate: ignore`` or ``# ftmigrate: ignore[FT001, FT002]``.

The comment goes on the line a finding is reported on (or the last line of the flagged
statement); the finding is then neither reported nor rewritten. Comments are found with
the tokenizer, so the marker inside a string does not count.
"""

from __future__ import annotations

import io
import re
import tokenize

_MARKER = re.compile(r"#\s*ftmigrate:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
ALL = frozenset({"*"})


def suppressions(text: str) -> dict[int, frozenset[str]]:
    """Line number -> rule codes suppressed there (``ALL`` for a bare ignore)."""
    if "ftmigrate" not in text:
        return {}
    found: dict[int, frozenset[str]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.COMMENT:
                continue
            match = _MARKER.search(tok.string)
            if match is None:
                continue
            codes = match.group("codes")
            if codes is None:
                found[tok.start[0]] = ALL
            else:
                found[tok.start[0]] = frozenset(c.strip().upper() for c in codes.split(",") if c.strip())
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def is_suppressed(table: dict[int, frozenset[str]], code: str, lines: tuple[int, ...]) -> bool:
    for line in lines:
        codes = table.get(line)
        if codes is not None and (codes is ALL or code in codes):
            return True
    return False
