"""ftmigrate.cstpair: every ``ast`` statement is paired with LibCST's node for it.

Checked against LibCST's own positions (not the pairing's walk): a paired LibCST node
starts where the ``ast`` statement starts, on tricky code and on real files.
"""

from __future__ import annotations

import ast
import sysconfig
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from ftmigrate.cstpair import PairingError, pair

TRICKY = textwrap.dedent(
    """\
    import os; x = 1; y = 2
    @decorator
    @other.deco(arg)
    async def f(a, b):
        if a: b = 1; c = 2
        elif b:
            pass
        elif c: return 3
        else:
            if d:
                pass
        async for i in a: pass
        else: x += 1
        async with lock: y -= 1
        while x:
            break
        else:
            continue
        def inner():
            nonlocal b
            class K: z = 1
            return K
    class C(Base, metaclass=M):
        '''docs'''
        attr: int = 0; other: str
        def m(self): return self.attr
    try:
        pass
    except* ValueError as group: handled = True
    except* (TypeError, KeyError):
        raise
    try: a = 1
    except E: pass
    except: pass
    else: b = 2
    finally: c = 3
    for q in r:
        pass
    else:
        del q
    match command:
        case [x, y, *rest] if x > 0: pass
        case {"k": v, **more}:
            global g
            g = v
        case Point(x=0) | None: assert True
        case _:
            pass
    with a as b, c: pass
    if x:
        pass
    else:
        if y: pass
        else: z = 0
    lambda: (yield)
    """
)


def _positions(module: cst.Module) -> dict[cst.CSTNode, tuple[int, int]]:
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: (pos.start.line, pos.start.column) for node, pos in positions.items()}


def _assert_paired_at_the_same_place(text: str) -> int:
    """Pair ``text``'s trees; every ast statement (and handler, case) is paired with a LibCST
    node starting where it starts, and back. Returns how many statements were checked."""
    tree, module = ast.parse(text), cst.parse_module(text)
    pairing = pair(tree, module)
    positions = _positions(module)
    lines = text.splitlines()
    checked = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.stmt, ast.ExceptHandler, ast.match_case)):
            own = pairing.cst(node)
            if isinstance(own, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                own = pairing.cst_small(node)
            if isinstance(node, ast.match_case):  # ast's case starts at its pattern, LibCST's at `case`
                expected = (node.pattern.lineno, lines[node.pattern.lineno - 1].index("case", 0, node.pattern.col_offset))
            else:
                expected = (node.lineno, len(lines[node.lineno - 1].encode()[: node.col_offset].decode()))
            assert positions[own] == expected, ast.dump(node)[:80]
            assert pairing.ast(own) is node
            checked += 1
    return checked


def test_tricky_code_pairs_every_statement_with_libcst_s_node_at_the_same_place():
    assert _assert_paired_at_the_same_place(TRICKY) == 67  # statements, handlers and cases


def test_a_line_of_small_statements_holds_each_of_them():
    tree = ast.parse(TRICKY)
    pairing = pair(tree, cst.parse_module(TRICKY))
    imp, x, y = tree.body[:3]
    line = pairing.cst(imp)
    assert isinstance(line, cst.SimpleStatementLine)
    assert pairing.cst(x) is line and pairing.cst(y) is line
    assert [type(small) for small in line.body] == [cst.Import, cst.Assign, cst.Assign]
    assert pairing.cst_small(x) is line.body[1]
    assert pairing.statements(line) == (imp, x, y)
    assert pairing.ast(line) is imp


def test_a_one_line_suite_holds_its_statements():
    tree = ast.parse(TRICKY)
    pairing = pair(tree, cst.parse_module(TRICKY))
    first_if = tree.body[3].body[0]
    b, c = first_if.body
    suite = pairing.cst(b)
    assert isinstance(suite, cst.SimpleStatementSuite) and pairing.cst(c) is suite
    assert suite is pairing.cst(first_if).body
    assert pairing.statements(suite) == (b, c)


def test_elif_is_libcst_s_if_in_orelse_and_else_if_is_not():
    tree = ast.parse(TRICKY)
    pairing = pair(tree, cst.parse_module(TRICKY))
    first_if = tree.body[3].body[0]
    elif_ = first_if.orelse[0]
    assert pairing.cst(elif_) is pairing.cst(first_if).orelse
    last_if = next(s for s in reversed(tree.body) if isinstance(s, ast.If))
    nested = last_if.orelse[0]
    assert isinstance(pairing.cst(last_if).orelse, cst.Else)
    assert pairing.cst(nested) is pairing.cst(last_if).orelse.body.body[0]


def test_functions_classes_handlers_cases_and_the_module_are_paired():
    tree = ast.parse(TRICKY)
    module = cst.parse_module(TRICKY)
    pairing = pair(tree, module)
    assert pairing.cst(tree) is module and pairing.ast(module) is tree
    func = tree.body[3]
    assert isinstance(func, ast.AsyncFunctionDef)
    assert pairing.cst(func).asynchronous is not None and len(pairing.cst(func).decorators) == 2
    trystar = next(s for s in tree.body if isinstance(s, ast.TryStar))
    assert isinstance(pairing.cst(trystar.handlers[1]), cst.ExceptStarHandler)
    match = next(s for s in tree.body if isinstance(s, ast.Match))
    assert [pairing.cst(case) for case in match.cases] == list(pairing.cst(match).cases)


def test_trees_of_different_code_are_refused():
    with pytest.raises(PairingError):
        pair(ast.parse("x = 1; y = 2\n"), cst.parse_module("x = 1\ny = 2\nz = 3\n"))
    with pytest.raises(PairingError):
        pair(ast.parse("if a:\n    pass\nelse:\n    pass\n"), cst.parse_module("if a:\n    pass\n"))
    with pytest.raises(PairingError):
        pair(ast.parse("for x in y: pass\n"), cst.parse_module("async def f():\n    async for x in y: pass\n"))


STDLIB = Path(sysconfig.get_path("stdlib"))
SAMPLE = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts and "test" not in p.parts and p.stat().st_size < 60_000)[::90]


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(STDLIB)))
def test_real_files_pair_every_statement_at_the_same_place(path):
    text = path.read_text(encoding="utf-8")
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError:
        pytest.skip(f"LibCST cannot parse {path}")
    assert _assert_paired_at_the_same_place(text) > 0
