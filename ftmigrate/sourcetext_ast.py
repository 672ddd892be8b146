"""A module's source text, addressed the way ``ast`` positions it.

``ast`` gives lines from 1 and columns in UTF-8 *bytes*; Python's tokenizer ends a line at
``\\n``, ``\\r\\n`` or ``\\r`` (not at the other characters ``str.splitlines`` splits at).
``SourceText`` turns positions into offsets of the text, and tells what LibCST shows
and ``ast`` does not: an expression's own parentheses, and whether a statement starts its
line (LibCST's ``SimpleStatementLine`` and indented blocks).
"""

from __future__ import annotations

import ast
import re

_LINE_END = re.compile(r"\r\n|\r|\n")
_BLANKS = " \t\f\r\n\\"  # what may stand between an expression and its own parentheses


class SourceText:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[str] = _LINE_END.split(text)
        starts = [0]
        for found in _LINE_END.finditer(text):
            starts.append(found.end())
        self._starts = starts

    def column(self, lineno: int, byte_col: int) -> int:
        """The character column (from 0) of ``ast``'s byte column ``byte_col`` on line ``lineno``."""
        line = self.lines[lineno - 1]
        if line.isascii():
            return byte_col
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def offset(self, lineno: int, byte_col: int) -> int:
        """The text offset of a position given as ``ast`` gives it."""
        return self._starts[lineno - 1] + self.column(lineno, byte_col)

    def span(self, node: ast.AST) -> tuple[int, int]:
        """(start, end) offsets of ``node`` in the text, as ``ast`` positions it (without an
        expression's own parentheses)."""
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def find(self, char: str, start: int) -> int:
        return self.text.find(char, start)

    def own_parentheses(self, start: int, end: int, not_at: int | None = None) -> tuple[int, int]:
        """The span widened to the parentheses around it (``((x))``), as LibCST counts them
        as the expression's own; not the one at ``not_at`` (a call's argument list)."""
        text = self.text
        while True:
            before = start - 1
            while before >= 0 and text[before] in _BLANKS:
                before -= 1
            if before < 0 or text[before] != "(" or before == not_at:
                return start, end
            after = end
            while after < len(text) and text[after] in _BLANKS:
                after += 1
            if after >= len(text) or text[after] != ")":
                return start, end
            start, end = before, after + 1

    def starts_line(self, node: ast.AST) -> bool:
        """Nothing but indentation comes before ``node`` on its line (not ``if x: node``,
        not ``a; node``)."""
        line = self.lines[node.lineno - 1]
        return not line[: self.column(node.lineno, node.col_offset)].strip()
