"""Parsing a file: the standard library's ``ast`` to analyse it, LibCST's tree only to
rewrite it.

Every failure is a ``SourceError`` whose message is the file's error: the compiler's own
for bad syntax, or that the file is valid newer Python this interpreter cannot analyse
(``ftmigrate.newsyntax``).
"""

from __future__ import annotations

import ast
import warnings
from contextlib import contextmanager
from typing import Iterator

import libcst as cst

from ftmigrate.newsyntax import needed_python, unanalysable_reason
from ftmigrate.sourcefile import SourceError, split_lines

# LibCST needs minutes and about 1 GB of memory per MB of source; a file this big is
# generated code, reported as not analysed rather than stalling the whole run.
MAX_PARSE_BYTES = 2 * 1024 * 1024


def syntax_tree(text: str, filename: str) -> ast.Module:
    """The standard library's ``ast``; raises SourceError with the compiler's message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            return ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise SourceError(f"syntax error: {exc.msg} (line {exc.lineno}, column {exc.offset})") from None
    except (ValueError, MemoryError) as exc:
        raise SourceError(f"cannot parse: {exc}") from None


def parse_cst(text: str) -> cst.Module:
    """LibCST's tree of text the compiler accepted."""
    try:
        with _unvalidated_nodes():
            module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise SourceError(f"LibCST cannot parse this file: {exc.message} (line {exc.raw_line}, column {exc.raw_column})") from None
    if text.endswith("\r") and not module.has_trailing_newline:
        # LibCST looks for a final "\n" only: with old Mac line endings it would drop the last "\r".
        module = module.with_changes(has_trailing_newline=True)
    return module


_VALIDATING = cst.CSTNode.__post_init__


def _no_validation(node: cst.CSTNode) -> None:
    pass


@contextmanager
def _unvalidated_nodes() -> Iterator[None]:
    """Nodes built meanwhile skip ``CSTNode.__post_init__``'s validation.

    LibCST validates every node its own parser builds, a third of a parse's time; its
    source says as much ("PERF: ... avoid validating the tree when parsing a file"). A tree
    parsed from code the compiler accepted is valid; nodes built by rules and the lock
    planner, later, are still validated.
    """
    cst.CSTNode.__post_init__ = _no_validation
    try:
        yield
    finally:
        # LibCST's own, not whatever was there: two threads parsing at once must not leave
        # validation switched off.
        cst.CSTNode.__post_init__ = _VALIDATING


def libcst_loss(text: str, code: str) -> str | None:
    """Why LibCST's ``code`` for ``text`` is not ``text`` byte for byte, or None if it is.

    LibCST drops a form feed inside a line's indentation (and would drop a final lone
    ``\\r`` if ``parse`` did not put it back); the AST check of a rewrite cannot notice
    such a loss, so every byte is checked.
    """
    if code == text:
        return None
    old, new = split_lines(text), split_lines(code)
    number = next((n for n, (a, b) in enumerate(zip(old, new), start=1) if a != b), min(len(old), len(new)) + 1)
    line = (old + [""])[number - 1]
    cause = ""
    if "\f" in line:
        cause = " (a form feed in the indentation)"
    elif "\r" in line.replace("\r\n", ""):
        cause = " (a lone \\r line ending)"
    return f"not rewritten: LibCST does not reproduce line {number} byte for byte{cause}"


def newer_python_error(text: str, error: SourceError) -> str:
    """The error of a file the compiler rejected: that it needs a newer Python to analyse, when
    LibCST's tree of it shows so (``ftmigrate.newsyntax``); else the compiler's own."""
    try:
        needed = needed_python(parse_cst(text))
    except (SourceError, RecursionError):
        needed = None
    return unanalysable_reason(needed) if needed is not None else str(error)
