"""ftmigrate.treewalk and FileContext's metadata equal LibCST's own, on real files.

The fast walks read LibCST's node classes in ways LibCST does not promise to keep (the
order of a class's keyword arguments, its codegen hooks); this test notices if a LibCST
upgrade breaks that.
"""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, ScopeProvider

from ftmigrate import treewalk
from ftmigrate.analysis import FileContext, iter_function_nodes
from ftmigrate.engine import line_count, parse_cst

STDLIB = Path(sysconfig.get_path("stdlib"))
SAMPLE = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts and p.stat().st_size < 40_000)[::60]


def _module(path: Path) -> cst.Module:
    try:
        return cst.parse_module(path.read_bytes())
    except cst.ParserSyntaxError:
        pytest.skip(f"LibCST cannot parse {path}")


class _Order(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(STDLIB)))
def test_walks_equal_libcst(path):
    module = _module(path)
    visitor = _Order()
    module.visit(visitor)
    nodes, parents = treewalk.index(module)
    assert nodes == visitor.nodes  # pre-order, LibCST's visiting order
    assert len(set(map(id, nodes))) == len(nodes)  # the parser shares no node: no copy needed
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    assert parents == dict(wrapper.resolve(ParentNodeProvider))
    assert dict(treewalk.positions(module)) == dict(wrapper.resolve(PositionProvider))
    for node in nodes[:: max(1, len(nodes) // 300)]:
        assert treewalk.children(node) == list(node.children)
    assert parse_cst(module.code).deep_equals(module)  # parsing without validation changes nothing


@pytest.mark.parametrize("path", SAMPLE[::3], ids=lambda p: str(p.relative_to(STDLIB)))
def test_file_context_metadata_equals_libcst(path):
    module = _module(path)
    fast = FileContext(module, copy=False)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    for func in fast.find(cst.FunctionDef):
        scope = whole[func.body]
        own = {a.name for a in scope.assignments if a.scope is scope} - fast.declared(func, cst.Global)
        assert fast.local_bindings(func) == own
        visitor = _Order()
        func.body.visit(_Pruning(visitor))
        assert iter_function_nodes(func) == visitor.nodes
        for kind in (cst.Global, cst.Nonlocal):
            assert fast.declared(func, kind) == {
                n.name.value for node in visitor.nodes if isinstance(node, kind) for n in node.names
            }


class _Pruning(cst.CSTVisitor):
    """The visitor ``iter_function_nodes`` used to be: stop at nested scopes."""

    def __init__(self, inner: _Order) -> None:
        self.inner = inner

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.inner.nodes.append(node)
        return len(self.inner.nodes) == 1 or not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda))


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(STDLIB)))
def test_positions_of_some_statements_equal_libcst(path):
    """``statement_positions`` codegens only the top-level statements holding the targets,
    each started at the line the ``ast`` tree gives; the ranges are PositionProvider's."""
    text = path.read_bytes().decode("utf-8")
    module = _module(path)
    ctx = FileContext(module, copy=False)
    targets = [n for n in ctx.nodes if isinstance(n, (cst.If, cst.AugAssign, cst.Assign, cst.Return))][::7]
    tops = {id(ctx._top_statement(t)) for t in targets}
    outline = (treewalk.statement_starts(ast.parse(text)), line_count(text))
    located = treewalk.statement_positions(module, targets, tops, *outline)
    assert located is not None  # real files pair up: no fallback to a whole-module pass
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert [located[t] for t in targets] == [expected[t] for t in targets]


@pytest.mark.parametrize(
    "text",
    [
        "import a\n\n# c\n\n@deco\n# between\n@other(\n  1)\ndef f():\n    x = 1\n    return x\n# footer\n",
        "x = 1; y = 2\nif x:\n    y += 1\n",
        "class C:\n    a = 1\n\n\n    b = 2\nz = (\n 3)\n",
        "@\\\ndeco\ndef f():\n    return 1\n",  # the ast line of the decorator is not the '@' line: fallback
        "x = 1\ny += 1",  # no final newline
        "(\n x)\ny += 1\n",  # a parenthesized expression statement: ast starts it inside the parentheses
        "if x:\r\n    y += 1\r\n",
    ],
)
def test_positions_of_some_statements_on_odd_layouts(text):
    module = parse_cst(text)
    ctx = FileContext(module, copy=False)
    targets = [n for n in ctx.nodes if isinstance(n, (cst.AugAssign, cst.Return, cst.Assign, cst.If))]
    ctx.locate(targets, (treewalk.statement_starts(ast.parse(text)), line_count(text)))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert [ctx.position(t) for t in targets] == [expected[t] for t in targets]


@pytest.mark.parametrize("path", SAMPLE[::2], ids=lambda p: str(p.relative_to(STDLIB)))
def test_find_all_equals_libcst_findall(path):
    import libcst.matchers as m

    module = _module(path)
    first_name = next((n for n in treewalk.walk(module) if isinstance(n, cst.Name)), cst.Name("x"))
    matchers = [
        m.FunctionDef(),
        m.Call(func=m.Name() | m.Attribute()),
        m.Return() | m.Break() | m.Global(),
        m.Name(first_name.value),
        m.MatchIfTrue(first_name.deep_equals),  # no node class to pre-select by
        m.ComparisonTarget(operator=m.In() | m.NotIn()),
    ]
    for matcher in matchers:
        assert treewalk.find_all(module, matcher) == m.findall(module, matcher)


def test_parsing_from_several_threads_leaves_libcst_validation_on():
    """parse_cst switches node validation off while LibCST parses; overlapping parses in
    threads (the Dask executor runs tasks in threads) must not leave it off."""
    import threading

    text = "x = 1\n" * 2000
    threads = [threading.Thread(target=parse_cst, args=(text,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")
