"""Files written for a newer Python than the one running ftmigrate.

On Python 3.11, ``type Alias = int`` or ``def f[T](x: T)`` is a ``SyntaxError`` for the
standard library's ``ast``, although the code is valid Python 3.12. Reporting such a file
as "syntax error" is wrong and alarming. The rules detect on the standard ``ast``, which
this interpreter cannot build for such a file, but LibCST's parser knows the newer grammar
and tells why the compiler rejected it: the file is not analysed, and its error says which
Python can (``unanalysable_reason``).

Only a rejection that LibCST's tree explains is treated this way: the tree must hold a
construct that needs a newer Python than the running one (``NEWER_CONSTRUCTS``). Anything
else stays the compiler's own syntax error.
"""

from __future__ import annotations

import dataclasses
import sys

import libcst as cst

# LibCST node classes and the Python version (and the name of the feature) they need.
NEWER_CONSTRUCTS: dict[type[cst.CSTNode], tuple[tuple[int, int], str]] = {
    cst.Match: ((3, 10), "match statements"),
    cst.TryStar: ((3, 11), "except*"),
    cst.TypeAlias: ((3, 12), "type aliases"),
    cst.TypeParameters: ((3, 12), "type parameters"),
}


def needed_python(module: cst.Module, running: tuple[int, int] | None = None) -> tuple[tuple[int, int], str] | None:
    """The newest Python version ``module``'s constructs need, with the feature's name, if it
    is newer than ``running`` (default: this interpreter); else None."""
    running = running or sys.version_info[:2]
    needed: tuple[tuple[int, int], str] | None = None
    stack: list[cst.CSTNode] = [module]  # only files the compiler rejected get here: rare
    while stack:
        node = stack.pop()
        stack.extend(reversed(_children(node)))  # pre-order: the first construct in the file wins a tie
        found = NEWER_CONSTRUCTS.get(type(node))
        if found is not None and found[0] > running and (needed is None or found[0] > needed[0]):
            needed = found
    return needed


def unanalysable_reason(needed: tuple[tuple[int, int], str]) -> str:
    """Why a file that needs ``needed`` is not analysed here, and what to do."""
    return _run_newer(needed, "analyse it", "check it")


def _run_newer(needed: tuple[tuple[int, int], str], cannot: str, purpose: str) -> str:
    (major, minor), feature = needed
    here = "%d.%d" % sys.version_info[:2]
    return (
        f"the file uses Python {major}.{minor} syntax ({feature}); this is Python {here}, which cannot "
        f"{cannot}: run ftmigrate with Python >= {major}.{minor} to {purpose}"
    )


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node``'s child nodes, read from its fields. Not LibCST's ``children``, which builds
    (and so validates) nodes: the tree of a file the compiler rejected was parsed without
    validation and may hold nodes LibCST's validation refuses (Python 3.14's t-strings)."""
    found: list[cst.CSTNode] = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, cst.CSTNode):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(item for item in value if isinstance(item, cst.CSTNode))
    return found
