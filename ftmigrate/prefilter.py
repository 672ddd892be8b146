"""Building blocks for rules' prefilters: cheap tests that never miss a finding.

A prefilter may let through a file that has no finding (it is then parsed and checked
for nothing), but it must never reject a file that has one. So every helper here errs on
the side of "maybe": when the text is too irregular to reason about, it says so.

- ``identifier_text``: the text in a form where ``\\b<name>\\b`` finds every use of an
  identifier (Python compares identifiers after NFKC normalisation).
- ``declared_names``: every name that follows ``global``/``nonlocal`` (a superset of the
  names the file really declares).
- ``logical_rest``: the rest of a logical line, strings blanked and comments dropped.
- ``statements``: every statement of a standard-library ``ast`` tree, and ``ast_dotted``,
  ``a.b.c`` of an ``ast`` Name/Attribute chain, for rules' ``candidate()`` checks.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from typing import Iterator

# Blanks between the tokens of one statement, line continuations included.
SEP = r"(?:[ \t\f]|\\(?:\r\n|\r|\n))"
# What may stand between an assignment target and its `=` or `+=`: blanks, newlines and
# comments inside parentheses, the parentheses themselves (`(x) += 1` is valid Python).
GAP = r"(?:\s|\\|[()]|#[^\r\n]*+)*+"
AUGMENTED_OPERATOR = r"(?:[-+*/%&|^@]|//|\*\*|<<|>>)="
# The operator of a binary operation (`x = x + 1`), for a "may this be one?" test.
BINARY_OPERATOR = re.compile(r"[-+*/%&|^@]|<<|>>")

_WORD = re.compile(r"\w")
_DECLARATION = re.compile(rf"(?:global|nonlocal){SEP}+(\w+(?:{SEP}*,{SEP}*\w+)*)")
_COMMA = re.compile(rf"{SEP}*,{SEP}*")
_STRING_OR_COMMENT = re.compile(r"""'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*"|#[^\r\n]*""")
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


def identifier_text(text: str) -> str | None:
    """``text`` where each identifier is a maximal run of ``\\w`` spelled as Python sees
    it, or None if that cannot be had (an identifier character that ``\\w`` misses)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    for char in set(text):
        if not char.isascii() and _WORD.match(char) is None and ("a" + char).isidentifier():
            return None
    return text


def declared_names(text: str) -> set[str]:
    """Names after ``global``/``nonlocal`` anywhere in ``text`` (strings and comments too)."""
    names: set[str] = set()
    for keyword in ("global", "nonlocal"):  # str.find is far faster than a regex search
        start = text.find(keyword)
        while start != -1:
            if start == 0 or _WORD.match(text, start - 1) is None:
                match = _DECLARATION.match(text, start)
                if match is not None:
                    names.update(_COMMA.split(match.group(1)))
            start = text.find(keyword, start + 1)
    return names


def logical_rest(text: str, pos: int, max_lines: int = 200) -> str | None:
    """The code from ``pos`` to the end of its logical line, string literals blanked and
    comments dropped; None if a string may span lines (or the line is absurdly long).

    Brackets and backslashes carry a logical line on; the line is taken to start outside
    any bracket (as after the ``=`` of an assignment statement).
    """
    parts: list[str] = []
    depth = 0
    for _ in range(max_lines):
        match = _PHYSICAL_LINE.match(text, pos)
        pos = match.end()
        code = _STRING_OR_COMMENT.sub(" ", match.group(0).rstrip("\r\n"))
        if "'" in code or '"' in code:
            return None  # a string that goes on past this line: too irregular to follow
        parts.append(code)
        depth += sum(code.count(b) for b in "([{") - sum(code.count(b) for b in ")]}")
        if (code.endswith("\\") or depth > 0) and pos < len(text):
            continue
        return " ".join(parts)
    return None


_BLOCKS = ("body", "handlers", "cases", "orelse", "finalbody")  # in source order


def statements(tree: ast.AST) -> Iterator[ast.stmt]:
    """Every statement in ``tree``, nested ones included, in source order."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
        children: list[ast.AST] = []
        for name in _BLOCKS:
            block = getattr(node, name, None)
            if isinstance(block, list):
                children.extend(block)
        stack.extend(reversed(children))


def ast_dotted(expr: ast.AST) -> str | None:
    """``a.b.c`` for an ``ast`` Name/Attribute chain, else None (``analysis.dotted`` of the
    standard library's tree)."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def ast_class_aliases(func: ast.AST) -> set[str]:
    """Names ``func`` binds to ``x.__class__`` or ``type(x)`` anywhere (a superset of ``FileContext.class_aliases``: how often the name is bound is not asked)."""
    found: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if (isinstance(value, ast.Attribute) and value.attr == "__class__" and isinstance(value.value, ast.Name)) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "type" and len(value.args) == 1
            ):
                found.add(node.targets[0].id)
    return found


_SYNCHRONISED_TYPES = frozenset({"Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"})


def ast_may_say_shared(cls: ast.ClassDef) -> bool:
    """A superset of ``sharing.shared_by_design``'s own-class evidence other than lock
    attributes: a docstring (the class's or a method's) that mentions threads, or an
    assignment in the class of a name or call spelled like a queue type
    (``queue.LifoQueue``, ``Queue()``)."""
    for node in ast.walk(cls):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc and "thread" in doc.lower():
                return True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            value = node.value.func if isinstance(node.value, ast.Call) else node.value
            if (ast_dotted(value) or "").rsplit(".", 1)[-1] in _SYNCHRONISED_TYPES:
                return True
    return False
