"""ftmigrate.analysis: the FileContext on the standard ``ast`` answers as the LibCST one did.

Exact answers on small modules, and on real files (a sample of the standard library) the
scope facts against LibCST's own ``ScopeProvider`` and the source of expressions against
LibCST's ``code_for_node``.
"""

from __future__ import annotations

import ast
import threading
import sysconfig
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ScopeProvider

from ftmigrate.analysis import (
    FUNCTIONS,
    FileContext,
    binop_operands,
    call_arguments,
    calls_unknown_code,
    dotted,
    identifier_nodes,
    iter_function_nodes,
    looks_like_lock_name,
    own_bindings,
    parameter_names,
    return_after,
    root_name,
    scope_bindings,
    suspends,
    top_level_bindings,
    walk,
)


def context(source: str) -> FileContext:
    text = textwrap.dedent(source)
    return FileContext(ast.parse(text), text)


def function(ctx: FileContext, name: str):
    return next(f for f in ctx.find(FUNCTIONS) if f.name == name)


# --- source text ----------------------------------------------------------------------
def test_code_is_the_source_as_written_with_the_expressions_own_parentheses():
    ctx = context(
        """\
        x = (a  +  b)
        print((y), z)
        with (self._lock):
            pass
        with (lock) as held:
            pass
        s = "é" + café.attr
        """
    )
    values = [ctx.code(v) for _, v in ctx.assignments]
    assert values == ["(a  +  b)", '"é" + café.attr']
    call = ctx.find(ast.Call)[0]
    assert [ctx.code(a) for a in call.args] == ["(y)", "z"]
    assert [ctx.code(w.items[0].context_expr) for w in ctx.find(ast.With)] == ["self._lock", "(lock)"]
    attribute = next(a for a in ctx.find(ast.Attribute) if a.attr == "attr")
    assert ctx.code(attribute) == "café.attr"  # columns are UTF-8 bytes in ast


def test_code_of_a_multiline_expression_is_relative_to_its_block():
    ctx = context(
        '''\
        def f():
            call(a,
                 b)
            text = """
                kept"""
            return (x  # note
                    + y)
        '''
    )
    call, = ctx.find(ast.Call)
    assert ctx.code(call) == "call(a,\n     b)"
    assert ctx.code(ctx.assignments[0][1]) == '"""\n        kept"""'
    returned = ctx.find(ast.Return)[0].value
    assert ctx.code(returned) == "(x  # note\n        + y)"


def test_same_code_is_libcst_deep_equals():
    ctx = context("d['x']; d[\"x\"]; d['x']; (o.a); o.a\n")
    first, second, third = ctx.find(ast.Subscript)
    assert ctx.same_code(first, third) and not ctx.same_code(first, second)
    wrapped, plain = ctx.find(ast.Attribute)
    assert not ctx.same_code(wrapped, plain)


def test_lines_split_where_python_does():
    ctx = context("a = 1\r\nb = '\x0c'\rc = 3\n")
    assert ctx.lines == ["a = 1", "b = '\x0c'", "c = 3", ""]
    assert ctx.code(ctx.assignments[2][0]) == "c"


# --- navigation -------------------------------------------------------------------------
def test_find_lists_nodes_in_source_order():
    ctx = context(
        """\
        @deco(1)
        def f(a=g(), *, b=h()):
            return {k(): v()}
        x = p() if q() else r()
        """
    )
    assert [ctx.code(c.func) for c in ctx.find(ast.Call)] == ["deco", "g", "h", "k", "v", "p", "q", "r"]
    assert ctx.find(ast.Call) is not ctx.find(ast.Call)  # a fresh list each time


def test_parent_block_and_statement():
    ctx = context(
        """\
        try:
            a = 1
        except E:
            b = f(x)
        else:
            pass
        finally:
            c = 3
        """
    )
    (try_,) = ctx.tree.body
    call = ctx.find(ast.Call)[0]
    assign = ctx.statement_of(call)
    assert ctx.code(assign) == "b = f(x)"
    assert ctx.block_of(assign) == (try_.handlers[0], "body", 0)
    assert ctx.block_of(try_.finalbody[0]) == (try_, "finalbody", 0)
    assert ctx.block_of(try_.orelse[0]) == (try_, "orelse", 0)
    assert ctx.parent(call) is assign and ctx.parent(ctx.tree) is None
    assert list(ctx.ancestors(call)) == [assign, try_.handlers[0], try_, ctx.tree]
    assert ctx.statement_of(try_) is try_


def test_methods_and_their_kinds():
    ctx = context(
        """\
        class C:
            def m(self): pass
            @staticmethod
            def s(): pass
            @builtins.classmethod
            def c(cls): pass
            def __new__(cls): pass
            if True:
                def hidden(self): pass
        def plain(): pass
        """
    )
    kinds = {f.name: ctx.method_kind(f) for f in ctx.find(FUNCTIONS)}
    assert kinds == {"m": "instance", "s": "static", "c": "class", "__new__": "class", "hidden": None, "plain": None}
    assert ctx.first_param(function(ctx, "m")) == "self" and ctx.first_param(function(ctx, "s")) is None
    inner = function(ctx, "hidden")
    assert ctx.enclosing_class(inner).name == "C" and ctx.method_class(inner) is None


def test_class_aliases():
    ctx = context(
        """\
        class C:
            def one(self):
                cls = self.__class__
                kind = type(self)
                twice = type(self)
                twice = None
                other = type(self, x)
            def param(self, cls=None):
                cls = type(self)
        """
    )
    assert ctx.class_aliases(function(ctx, "one")) == {"cls": "self.__class__", "kind": "type(self)"}
    assert ctx.class_aliases(function(ctx, "param")) == {}


def test_is_elif_reads_the_text():
    ctx = context("if a:\n    pass\nelif b:\n    pass\nelse:\n    if c:\n        pass\n")
    outer, elif_, nested = ctx.find(ast.If)
    assert (ctx.is_elif(outer), ctx.is_elif(elif_), ctx.is_elif(nested)) == (False, True, False)


# --- bindings ---------------------------------------------------------------------------
def test_scope_bindings_as_libcst_records_them():
    ctx = context(
        """\
        def f(p):
            a = b = 1
            c, *d = x
            e: int
            g += 1
            for h in y: pass
            with z as (i, j): pass
            try: pass
            except E as k: pass
            import m.n, o as q
            from r import s, t as u
            (w := 2)
            [comp for comp in y if (inner := comp)]
            def inner_f(): nested = 1
            class K: attr = 1
        """
    )
    func = function(ctx, "f")
    found = [(name, type(node).__name__) for name, node in scope_bindings(func.body, skip=func)]
    assert found == [
        ("a", "Name"), ("b", "Name"), ("c", "Name"), ("d", "Name"), ("e", "Name"), ("g", "Name"), ("h", "Name"),
        ("i", "Name"), ("j", "Name"), ("k", "ExceptHandler"), ("m.n", "Import"), ("m", "Import"), ("q", "Import"),
        ("s", "ImportFrom"), ("u", "ImportFrom"), ("w", "Name"), ("inner_f", "FunctionDef"), ("K", "ClassDef"),
    ]
    assert own_bindings(func) == {name for name, _ in found} | {"p"}
    assert own_bindings(func, params=False) == {name for name, _ in found}


def test_parameters_and_local_bindings():
    ctx = context(
        """\
        counter = 0
        def f(a, /, b, *args, c, **kw):
            global counter
            counter += 1
            local = 1
        """
    )
    func = function(ctx, "f")
    assert parameter_names(func) == {"a", "b", "args", "c", "kw"}
    assert ctx.local_bindings(func) == {"a", "b", "args", "c", "kw", "local"}
    assert ctx.declared(func, ast.Global) == {"counter"} and ctx.declared(func, ast.Nonlocal) == set()
    assert ctx.resolves_globally(func, "counter") and not ctx.resolves_globally(func, "local")
    assert ctx.resolves_globally(func, "print")
    assert [type(n).__name__ for n in ctx.global_bindings["counter"]] == ["Name", "Name"]


def test_resolution_through_enclosing_functions_and_classes():
    ctx = context(
        """\
        total = 0
        def outer():
            total = 1
            class K:
                total = 2
                def method(self):
                    return total
            def inner():
                nonlocal total
                total += 1
            return lambda: total
        """
    )
    assert not ctx.resolves_globally(function(ctx, "method"), "total")  # outer's, the class skipped
    assert not ctx.resolves_globally(function(ctx, "inner"), "total")
    bindings = ctx.function_bindings(function(ctx, "outer"))
    assert [ctx.code(n) for n in bindings["total"]] == ["total", "total"]  # outer's and inner's nonlocal one
    assert set(bindings) == {"total", "K", "inner"}


def test_top_level_and_module_bindings():
    ctx = context(
        """\
        import os.path, json as j
        from x import *
        a = b = 1
        c: int
        d: int = 2
        e += 1
        if cond:
            f = 1
        else: g = 1
        for h, *i in y:
            k = 1
        with w as m:
            n = 1
        def fn(): pass
        class Cls: pass
        """
    )
    assert ctx.module_bindings() == {"os", "j", "a", "b", "d", "e", "f", "h", "i", "k", "n", "fn", "Cls"}
    assert top_level_bindings(ctx.tree.body[0]) == {"os", "j"}


# --- locks and threads ------------------------------------------------------------------
def test_lock_kinds_and_identifiers():
    ctx = context(
        """\
        import threading as th
        import multiprocessing
        from threading import RLock as R, Condition
        a = th.Lock()
        b = R()
        c = Condition()
        d = Condition(a)
        e = multiprocessing.Semaphore(2)
        self.f = threading.Lock()
        g = asyncio.Lock()
        """
    )
    assert ctx.threading_aliases == ["th"] and ctx.threading_names == {"RLock": "R", "Condition": "Condition"}
    kinds = [ctx.lock_kind(v) for _, v in ctx.assignments]
    assert kinds == ["Lock", "RLock", "RLock", "Condition", "Semaphore", "Lock", None]
    assert ctx.lock_identifiers == {"a", "b", "c", "d", "e", "f"}
    assert ctx.is_reentrant_lock("self.b") and ctx.is_reentrant_lock("c") and not ctx.is_reentrant_lock("a")
    names = [ast.parse(code, mode="eval").body for code in ("a", "x.f", "state_lock", "self.clock", "threading.Lock()")]
    assert [ctx.is_lock_expr(n) for n in names] == [True, True, True, False, False]


def test_looks_like_lock_name():
    assert [looks_like_lock_name(n) for n in ("_lock", "stateLock", "LOCK", "_instancelock", "cv", "mutex")] == [True] * 6
    assert [looks_like_lock_name(n) for n in ("lock_count", "block", "clock", "unlock", "")] == [False] * 5


def test_class_lock_attrs():
    ctx = context(
        """\
        import threading
        class C:
            _lock = threading.Lock()
            _guard_lock = make()
            other = threading.Lock
            def __init__(self):
                self._mutex = threading.RLock()
                self._mutex = threading.RLock()
                self.state_lock = factory()
                other.x_lock = threading.Lock()
            @staticmethod
            def s(self):
                self.s_lock = threading.Lock()
        """
    )
    cls = ctx.find(ast.ClassDef)[0]
    assert ctx.class_lock_attrs(cls) == (["_lock", "_guard_lock"], ["_mutex", "state_lock"])


def test_call_sites():
    ctx = context(
        """\
        import pkg.run
        def run(): pass
        run(); x.run(); run
        class C:
            def __init__(self): pass
            def run(self): pass
            def make(cls): return cls()
            def again(self): return type(self)()
        C(); self.run; D()
        """
    )
    plain, init, method = function(ctx, "run"), function(ctx, "__init__"), ctx.find(FUNCTIONS)[2]
    assert [ctx.code(c) for c in ctx.call_sites(plain)] == ["run()"]
    assert [ctx.code(c) for c in ctx.call_sites(init)] == ["C()", "cls()", "type(self)()"]
    assert [type(s).__name__ for s in ctx.call_sites(method)] == ["alias", "Attribute", "Attribute"]


def test_thread_handoffs_and_identifiers():
    ctx = context(
        """\
        t = threading.Thread(target=self._work)
        Timer(1, f)
        pool.submit(_job, 1)
        map(f, x)
        def _helper(_arg, *, key=None): return _helper(_arg=1)
        """
    )
    assert [ctx.code(c.func) for c in ctx.thread_handoffs] == ["threading.Thread", "Timer", "pool.submit"]
    assert {"threading", "Thread", "target", "self", "_work", "None", "key", "_arg"} <= ctx.identifiers
    uses = {name: [type(n).__name__ for n in nodes] for name, nodes in ctx.private_names.items()}
    assert uses == {"_work": ["Attribute"], "_job": ["Name"], "_helper": ["FunctionDef", "Name"], "_arg": ["arg", "keyword"]}
    # pre-order: an attribute's name comes with its Attribute node, before the names of its value
    assert [name for name, _ in identifier_nodes(ctx.tree.body[0])] == ["t", "Thread", "threading", "target", "_work", "self"]


# --- module functions -------------------------------------------------------------------
def test_small_helpers():
    expr = ast.parse("a.b.c", mode="eval").body
    assert dotted(expr) == "a.b.c" and root_name(expr) == "a"
    assert dotted(ast.parse("a().b", mode="eval").body) is None
    chain = ast.parse("x + a - b", mode="eval").body
    assert [ast.unparse(n) for n in binop_operands(chain)] == ["b", "a", "x"]
    call = ast.parse("f(1, k=2, *rest)", mode="eval").body
    assert [(k, ast.unparse(v)) for k, v in call_arguments(call)] == [(None, "1"), ("k", "2"), (None, "rest")]
    assert not calls_unknown_code(ast.parse("len(x) + d.get(k)"), frozenset({"d"}))
    assert calls_unknown_code(ast.parse("len(x) + e.get(k)"), frozenset({"d"}))
    assert suspends(ast.parse("async def f():\n    await g()").body[0])
    assert suspends(ast.parse("def f():\n    yield from g()").body[0]) and not suspends(ast.parse("f()"))


def test_iter_function_nodes_stops_at_nested_scopes():
    ctx = context(
        """\
        def f():
            a = 1
            @deco
            def g(x=h()):
                inner()
            lam = lambda: hidden()
            [c() for c in d]
        """
    )
    kinds = [type(n).__name__ for n in iter_function_nodes(function(ctx, "f"))]
    assert kinds[:4] == ["Assign", "Name", "Constant", "FunctionDef"]
    assert "Lambda" in kinds and kinds.count("Call") == 1  # c() only: g's decorator/defaults, the lambda not entered
    assert [type(n).__name__ for n in walk([ast.parse("x").body[0]])] == ["Expr", "Name"]


def test_return_after_keeps_libcsts_lines():
    def followers(source: str) -> list[str]:
        ctx = context(source)
        stmt = ctx.find(ast.AugAssign)[0]
        return [ctx.code(s) for s in return_after(ctx, stmt, lambda n: isinstance(n, ast.Name) and n.id == "count")]

    assert followers("def f():\n    count += 1\n    return count\n") == ["return count"]
    assert followers("def f():\n    count += 1\n    return other\n") == []
    assert followers("count += 1\n") == []
    assert followers("def f():\n    count += 1; return count\n") == []
    assert followers("def f():\n    count += 1\n    return count; g()\n") == []
    assert followers("def f():\n    x = 1; count += 1\n    return count\n") == ["return count"]
    assert followers("def f():\n    count += 1; y = 2\n    return count\n") == ["return count"]
    assert followers("if x: count += 1; return count\n") == []


# --- against LibCST on real files ---------------------------------------------------------
STDLIB = Path(sysconfig.get_path("stdlib"))
SAMPLE = sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts and p.stat().st_size < 40_000)[::90]


def _both(path: Path) -> tuple[cst.Module, FileContext]:
    try:
        text = path.read_text(encoding="utf-8")
        return cst.parse_module(text), FileContext(ast.parse(text), text)
    except (UnicodeDecodeError, SyntaxError, cst.ParserSyntaxError):
        pytest.skip(f"cannot parse {path}")


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(STDLIB)))
def test_scopes_equal_libcsts(path):
    module, ctx = _both(path)
    scopes = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    global_scope = scopes[module]
    expected = {name: len(global_scope.assignments[name]) for name in {a.name for a in global_scope.assignments}}
    assert {name: len(nodes) for name, nodes in ctx.global_bindings.items()} == expected
    old_functions = [n for n in _walk_cst(module) if isinstance(n, cst.FunctionDef)]
    new_functions = ctx.find(FUNCTIONS)
    assert [f.name.value for f in old_functions] == [f.name for f in new_functions]
    for old, new in zip(old_functions, new_functions):
        scope = scopes[old.body]
        own = {a.name for a in scope.assignments if a.scope is scope}
        assert ctx.local_bindings(new) == own - ctx.declared(new, ast.Global)
        names = {a.name for a in scope.assignments}
        assert {n: len(v) for n, v in ctx.function_bindings(new).items()} == {n: len(scope.assignments[n]) for n in names}


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(STDLIB)))
def test_code_equals_libcsts(path):
    module, ctx = _both(path)
    pairs = ((cst.Call, ast.Call), (cst.Attribute, ast.Attribute), (cst.Subscript, ast.Subscript), (cst.Comparison, ast.Compare))
    for old_kind, new_kind in pairs:
        old = [module.code_for_node(n) for n in _walk_cst(module, skip=(cst.Import, cst.ImportFrom)) if isinstance(n, old_kind)]
        assert [ctx.code(n) for n in ctx.find(new_kind)] == old


def _walk_cst(root: cst.CSTNode, skip: tuple[type, ...] = ()) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class Visitor(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            found.append(node)
            return not isinstance(node, skip)

    root.visit(Visitor())
    return found


def test_each_thread_asks_its_own_file_whether_a_block_is_one_line():
    """A batch worker's threads check files at once: the text that tells an indented block
    from a one-line suite is the file of the thread asking, not the last one opened."""
    from ftmigrate.bindings import indented

    indented_text, one_line = "if x:\n    a = 1\n", "if x: a = 1\nb = 2\n"
    tree = ast.parse(indented_text)
    FileContext(tree, indented_text)
    answers = {}

    def other_file() -> None:
        other = ast.parse(one_line)
        FileContext(other, one_line)
        answers["other"] = indented(other.body[0].body)

    thread = threading.Thread(target=other_file)
    thread.start()
    thread.join()
    answers["this"] = indented(tree.body[0].body)  # line 2 of the other file is `b = 2`
    assert answers == {"other": False, "this": True}
