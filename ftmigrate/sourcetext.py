"""A module's source text, addressed the way ``ast`` positions it.

``ast`` gives lines from 1 and columns in UTF-8 *bytes*; Python's tokenizer ends a line at
``\\n``, ``\\r\\n`` or ``\\r`` (not at the other characters ``str.splitlines`` splits at).
``SourceText`` turns positions into offsets of the text, and tells what LibCST shows
and ``ast`` does not: an expression's own parentheses, and whether a statement starts its
line (LibCST's ``SimpleStatementLine`` and indented blocks).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable

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

    def own_parentheses(self, start: int, end: int, theirs: Callable[[int, int], bool] | None = None) -> tuple[int, int]:
        """The span widened to the parentheses around it (``((x))``, comments and line
        breaks between them included), as LibCST counts them as the expression's own; not
        a pair that ``theirs(open, close)`` says is the parent's (a call's argument list)."""
        text = self.text
        while True:
            before = self._skip_back(start - 1)
            if before < 0 or text[before] != "(":
                return start, end
            after = self.skip_forward(end)
            if after >= len(text) or text[after] != ")" or (theirs is not None and theirs(before, after)):
                return start, end
            start, end = before, after + 1

    def skip_forward(self, at: int) -> int:
        """The offset of the first character from ``at`` on that is not blank or comment."""
        text = self.text
        while at < len(text):
            char = text[at]
            if char == "#":
                while at < len(text) and text[at] not in "\r\n":
                    at += 1
            elif char in _BLANKS:
                at += 1
            else:
                return at
        return at

    def _skip_back(self, at: int) -> int:
        text = self.text
        while at >= 0:
            char = text[at]
            if char in "\r\n":
                line_start = max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1
                if char == "\n" and at > 0 and text[at - 1] == "\r":
                    line_start = max(text.rfind("\n", 0, at - 1), text.rfind("\r", 0, at - 1)) + 1
                    at -= 1
                at = line_start + len(_before_comment(text[line_start:at])) - 1
            elif char in _BLANKS:
                at -= 1
            else:
                return at
        return at

    def dedented(self, start: int, end: int, indent: str) -> str:
        """The text from ``start`` to ``end`` with ``indent`` taken off the front of each
        line after the first that starts outside a string and after no ``\\`` continuation:
        LibCST keeps the lines inside brackets relative to their block's indentation."""
        code = self.text[start:end]
        if not indent or ("\n" not in code and "\r" not in code):
            return code
        pieces = _LINE_END.split(code)
        ends = _LINE_END.findall(code)
        in_string = _string_lines(code)
        out = [pieces[0]]
        for row, line in enumerate(pieces[1:], start=2):
            previous = pieces[row - 2]
            if row not in in_string and not previous.endswith("\\") and line.startswith(indent):
                line = line[len(indent):]
            out.append(ends[row - 2] + line)
        return "".join(out)

    def indentation(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip(" \t\f"))]

    def starts_line(self, node: ast.AST) -> bool:
        """Nothing but indentation comes before ``node`` on its line (not ``if x: node``,
        not ``a; node``)."""
        line = self.lines[node.lineno - 1]
        return not line[: self.column(node.lineno, node.col_offset)].strip()


def _before_comment(line: str) -> str:
    """``line`` without its comment (a ``#`` outside quotes)."""
    quote = None
    i = 0
    while i < len(line):
        char = line[i]
        if quote is not None:
            if char == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif char in "'\"":
            quote = line[i : i + 3] if line.startswith(char * 3, i) else char
            i += len(quote) - 1
        elif char == "#":
            return line[:i]
        i += 1
    return line


def _string_lines(code: str) -> set[int]:
    """Lines of ``code`` (from 1) that start inside a string literal."""
    inside: set[int] = set()
    depth = 0
    opened = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            kind = token.type
            if kind == tokenize.STRING:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
            elif kind == getattr(tokenize, "FSTRING_START", None):
                depth += 1
                if depth == 1:
                    opened = token.start[0]
            elif kind == getattr(tokenize, "FSTRING_END", None):
                depth -= 1
                if depth == 0:
                    inside.update(range(opened + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return inside
