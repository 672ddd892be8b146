"""How far back a critical section reaches, on the standard ``ast`` (ftmigrate/spans.py),
and LibCST's grouping of statements into lines and blocks answered on ``ast``."""

from __future__ import annotations

import ast
import textwrap

import pytest

from ftmigrate.analysis import FileContext
from ftmigrate.spans import (
    equal_to,
    in_indented_block,
    simple_line,
    spelling,
    update_span,
    written_back,
)


def context(code: str) -> FileContext:
    text = textwrap.dedent(code)
    return FileContext(ast.parse(text), text)


def statement(ctx: FileContext, source: str) -> ast.stmt:
    return next(n for n in ctx.nodes if isinstance(n, ast.stmt) and ctx.code(n) == source)


def reads_count(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "count" and isinstance(node.value, ast.Name) and node.value.id == "self"


def span(code: str, write: str) -> tuple[list[str], bool]:
    ctx = context(code)
    found = update_span(ctx, statement(ctx, write), reads_count)
    return [ctx.code(s) for s in found.leaders], found.fed


@pytest.mark.parametrize(
    "body, expected",
    [
        ("n = self.count\nn += 1\nself.count = n", (["n = self.count", "n += 1"], True)),
        ("n: int = self.count\nself.count = n + 1", (["n: int = self.count"], True)),
        ("old = self.count\nself.count += 1", (["old = self.count"], False)),
        # Not adjacent, or not an assignment to a local: the walk stops.
        ("n = self.count\nprint(n)\nself.count = n", ([], False)),
        ("self.x = self.count\nself.count = 1", ([], False)),
        ("n = 1\nself.count = n", ([], False)),  # feeds the write but reads no state
        # Computing what the write uses, before the read: not taken (the section starts at the read).
        ("k = 2\nn = self.count * k\nself.count = n", (["n = self.count * k"], True)),
        ("n = self.count\nk = n * 2\nself.count = k", (["n = self.count", "k = n * 2"], True)),
        # `a; b` is one LibCST line: not a leader.
        ("n = self.count; n += 1\nself.count = n", ([], False)),
    ],
)
def test_update_span(body: str, expected):
    code = "def f(self):\n" + textwrap.indent(body, "    ") + "\n"
    assert span(code, body.splitlines()[-1].split("; ")[-1]) == expected


def test_no_span_at_module_level_or_in_a_one_line_suite():
    assert span("n = self.count\nself.count = n\n", "self.count = n") == ([], False)
    assert span("def f(self):\n    if x: n = self.count; self.count = n\n", "self.count = n") == ([], False)


def test_a_write_on_a_line_with_others_spans_from_the_line():
    # LibCST's statement is the whole line `n += 1; self.count = n`.
    assert span("def f(self):\n    n = self.count\n    n += 1; self.count = n\n", "self.count = n") == (["n = self.count"], True)


@pytest.mark.parametrize(
    "code, write, kinds, expected",
    [
        ("def f(self):\n    n = self.count\n    n += 1\n    self.count = n\n", "self.count = n", (ast.Attribute, ast.Subscript), "self.count"),
        ("def f(d, k):\n    n = d[k]\n    d[k] = n + 1\n", "d[k] = n + 1", (ast.Attribute, ast.Subscript), "d[k]"),
        ("def f():\n    global x\n    n = x\n    x = n + 1\n", "x = n + 1", ast.Name, "x"),
        # The name is read as an attribute's name: a LibCST Name all the same.
        ("def f(r):\n    global url\n    n = r.url\n    url = n + 1\n", "url = n + 1", ast.Name, "url"),
        ("def f():\n    global x\n    n = x\n    x = True\n", "x = True", ast.Name, None),  # fed by nothing
        ("def f():\n    global x\n    n = x\n    x = n\n", "x = n", ast.Attribute, None),  # not of the kinds
        ("def f():\n    global x\n    n = x\n    x = f(n)\n", "x = f(n)", ast.Name, None),  # a call: not a plain write-back
        ("def f(self):\n    n = self.count\n    self.count = (n)\n", "self.count = (n)", ast.Attribute, "self.count"),
        ("def f(self):\n    n = (self.count)\n    self.count = n\n", "self.count = n", ast.Attribute, None),  # LibCST: (self.count) is not self.count
    ],
)
def test_written_back(code: str, write: str, kinds, expected):
    ctx = context(code)
    target = written_back(ctx, statement(ctx, write), kinds)
    assert (None if target is None else ctx.code(target)) == expected


def test_simple_line_and_indented_block():
    ctx = context("a = 1; b = 2\nc = 3\nif c: d = 4; e = 5\nfor i in x:\n    f = 6\n")
    assert [ctx.code(s) for s in simple_line(ctx, statement(ctx, "b = 2"))] == ["a = 1", "b = 2"]
    assert [ctx.code(s) for s in simple_line(ctx, statement(ctx, "c = 3"))] == ["c = 3"]
    assert [ctx.code(s) for s in simple_line(ctx, statement(ctx, "d = 4"))] == ["d = 4", "e = 5"]
    loop = statement(ctx, "for i in x:\n    f = 6")
    assert simple_line(ctx, loop) == (loop,)
    assert [in_indented_block(ctx, statement(ctx, s)) for s in ("a = 1", "d = 4", "f = 6")] == [True, False, True]


def test_reads_predicates_are_libcsts_matchers():
    ctx = context("def f(o):\n    g((x), o.x, x=1, y=x)\n")
    call = statement(ctx, "g((x), o.x, x=1, y=x)").value
    spells_x = spelling("x")
    # m.Name("x") matched the parenthesised name, the attribute's name and the keyword too.
    assert [ctx.code(n) for n in ast.walk(call) if spells_x(n)] == ["(x)", "o.x", "x=1", "x"]
    ctx2 = context("x = 1\ny = (x) + x + o.x\n")
    same = equal_to(ctx2, next(n for n in ctx2.nodes if isinstance(n, ast.Name) and n.id == "x"))
    # deep_equals of the name `x`: not the parenthesised one, but the attribute's name.
    assert [ctx2.code(n) for n in ctx2.nodes if same(n)] == ["x", "x", "o.x"]
