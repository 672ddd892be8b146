"""A finding is placed where LibCST placed it before the ast port: ``engine.site_span``
of a statement or decorator equals LibCST's own ``PositionProvider`` range of the paired
node (character columns, not the ``ast``'s UTF-8 bytes; a decorator from its ``@``)."""

from __future__ import annotations

import ast
import sysconfig
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from ftmigrate.analysis import FileContext
from ftmigrate.cstpair import pair
from ftmigrate.engine import site_span
from ftmigrate.rules import Site

UNICODE = textwrap.dedent(
    """\
    café = {"naïve": 0}; ünïcode = 1
    def zähler(s):
        global café
        if s: café["naïve"] += len("日本語")  ;  x = "ß"
        café = café | {"ö": 1}
    @   décor("é")
    @other . deco
    class Ünicode: pass
    """
)


def _expected(text: str) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """(site_span, LibCST's range) for every statement and decorator of ``text``."""
    tree, module = ast.parse(text), cst.parse_module(text)
    pairing = pair(tree, module)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ctx = FileContext(tree, text)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        own = pairing.cst(node)
        if isinstance(own, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            own = pairing.cst_small(node)
        pairs = [(node, own)]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            pairs += zip(node.decorator_list, own.decorators)
        for tree_node, cst_node in pairs:
            pos = positions[cst_node]
            libcst_span = (pos.start.line, pos.start.column, pos.end.line, pos.end.column)
            found.append((site_span(ctx, Site("FT000", tree_node, "")), libcst_span))
    return found


def test_unicode_semicolons_one_line_suites_and_decorators_are_placed_as_libcst_places_them():
    found = _expected(UNICODE)
    assert len(found) == 12  # 10 statements, 2 decorators
    assert [ours for ours, _ in found] == [theirs for _, theirs in found]
    assert ((4, 10, 4, 37), (4, 10, 4, 37)) in found  # café["naïve"] += len("日本語"): characters, not bytes
    assert ((6, 0, 6, 14), (6, 0, 6, 14)) in found  # @   décor("é") from its @


def test_a_site_ends_at_its_end_node():
    text = "a = 1; b = 2\n"
    tree = ast.parse(text)
    first, second = tree.body
    assert site_span(FileContext(tree, text), Site("FT000", first, "", end_node=second)) == (1, 0, 1, 12)


STDLIB = Path(sysconfig.get_path("stdlib"))
SAMPLE = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts and p.stat().st_size < 50_000)[::150]



def _non_ascii(path: Path) -> bool:
    raw = path.read_bytes()
    try:
        return not raw.isascii() and bool(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return False


NON_ASCII = [p for p in sorted((STDLIB / "test").glob("test_*.py")) if p.stat().st_size < 50_000 and _non_ascii(p)][::4]


@pytest.mark.parametrize("path", SAMPLE + NON_ASCII, ids=lambda p: str(p.relative_to(STDLIB)))
def test_real_files_place_statements_and_decorators_as_libcst(path):
    text = path.read_bytes().decode("utf-8")
    try:
        found = _expected(text)
    except (SyntaxError, cst.ParserSyntaxError):
        pytest.skip(f"cannot parse {path}")
    mismatches = [(ours, theirs) for ours, theirs in found if ours != theirs]
    assert mismatches == []
