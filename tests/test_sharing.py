"""The ast answers to "are instances of this class shared between threads, which code do
threads reach, does this closure leave its function" (ftmigrate/sharing.py,
closures.py, design.py): exact answers on hand-written modules."""

from __future__ import annotations

import ast
import textwrap

import pytest

from ftmigrate.analysis import FileContext
from ftmigrate.closures import closure_escapes
from ftmigrate.design import designed_for_threads, documented_not_thread_safe
from ftmigrate.sharing import (
    called_functions,
    handed_to_threads,
    instance_lock_attributes,
    is_thread_subclass,
    says_thread_safe,
    shared_by_design,
    shared_class_reason,
    thread_entry_methods,
    thread_safe_member,
)


def context(code: str, shared_classes=()) -> FileContext:
    text = textwrap.dedent(code)
    return FileContext(ast.parse(text), text, shared_classes=shared_classes)


def cls_named(ctx: FileContext, name: str) -> ast.ClassDef:
    return next(n for n in ast.walk(ctx.tree) if isinstance(n, ast.ClassDef) and n.name == name)


def func_named(ctx: FileContext, name: str):
    return next(n for n in ast.walk(ctx.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)


SHARED = [
    pytest.param("class C:\n    def f(self):\n        self.n += 1\n", ("C",), "listed in shared-classes", id="configured"),
    pytest.param(
        "import threading\nclass C:\n    def __init__(self):\n        self._guard = threading.RLock()\n",
        (), "its instances have a thread lock attribute", id="instance-lock",
    ),
    pytest.param(
        "import asyncio\nclass C:\n    def __init__(self):\n        self._lock = asyncio.Lock()\n",
        (), None, id="asyncio-lock-is-no-evidence",
    ),
    pytest.param(
        "import threading\nclass C:\n    _lock = threading.Lock()\n", (), None, id="class-level-lock-is-no-evidence",
    ),
    pytest.param("import threading as t\nclass W(t.Thread):\n    pass\n", (), "it subclasses threading.Thread", id="thread-alias"),
    pytest.param("from threading import Thread\nclass W(Thread):\n    pass\n", (), "it subclasses threading.Thread", id="thread-by-name"),
    pytest.param(
        "import threading\nclass C:\n    def run(self):\n        pass\n    def start(self):\n"
        "        threading.Thread(target=self.run).start()\n",
        (), "its method run() is run by threads", id="method-to-thread",
    ),
    pytest.param(
        "class C:\n    def step(self):\n        pass\nc = C()\npool.submit(c.step)\n",
        (), "its method step() is run by threads", id="instance-method-to-pool",
    ),
    pytest.param(
        "import queue\nclass C:\n    Q = queue.LifoQueue\n", (), "it keeps a thread-safe `queue.LifoQueue`", id="queue-type",
    ),
    pytest.param(
        "from queue import Queue\nclass C:\n    def __init__(self):\n        self.q = Queue()\n",
        (), "it keeps a thread-safe `queue.Queue`", id="queue-by-name",
    ),
    pytest.param(
        "from queue import Queue as Q\nclass C:\n    def __init__(self):\n        self.q = Q()\n",
        (), None, id="renamed-queue-not-followed",
    ),
    pytest.param(
        'class C:\n    """This class is thread-safe."""\n', (), 'its documentation says "thread-safe"', id="docstring",
    ),
    pytest.param(
        'class C:\n    def get(self):\n        """The cache is shared   among multiple\n        threads."""\n',
        (), 'its documentation says "shared among multiple threads"', id="method-docstring",
    ),
    pytest.param('class C:\n    """The Connection is not thread-safe."""\n', (), None, id="hedged-not"),
    pytest.param('class C:\n    """The only thread-safe method."""\n', (), None, id="hedged-only"),
    pytest.param('class C: """This class is thread-safe."""\n', (), None, id="one-line-docstring-not-read"),
    pytest.param(
        'class B:\n    """B is thread-safe."""\nclass C(B):\n    pass\n',
        (), 'it derives from `B`: its documentation says "thread-safe"', id="base-without-init",
    ),
    pytest.param(
        'class B:\n    """B is thread-safe."""\nclass C(B):\n    def __init__(self):\n        super().__init__()\n',
        (), 'it derives from `B`: its documentation says "thread-safe"', id="base-init-run",
    ),
    pytest.param(
        'class B:\n    """B is thread-safe."""\nclass C(B):\n    def __init__(self):\n        self.x = 1\n',
        (), None, id="base-init-not-run",
    ),
]


@pytest.mark.parametrize(("code", "configured", "reason"), SHARED)
def test_shared_class_reason(code, configured, reason):
    ctx = context(code, configured)
    cls = ctx.tree.body[-1] if isinstance(ctx.tree.body[-1], ast.ClassDef) else cls_named(ctx, "C")
    assert shared_class_reason(ctx, cls) == reason
    assert shared_class_reason(ctx, cls) == reason  # the cached answer


def test_shared_by_design_leaves_out_thread_evidence():
    ctx = context("import threading\nclass W(threading.Thread):\n    pass\n")
    assert shared_by_design(ctx, cls_named(ctx, "W")) is None
    assert is_thread_subclass(ctx, cls_named(ctx, "W")) is True


def test_base_cycle_ends():
    ctx = context("class A(B):\n    pass\nclass B(A):\n    pass\n")
    assert shared_by_design(ctx, cls_named(ctx, "A")) is None


def test_instance_lock_attributes_in_order_once_each():
    ctx = context(
        """\
        import threading
        from threading import Lock as _L
        class C:
            _class_lock = threading.Lock()
            def __init__(self):
                self._b = _L()
                self._a = threading.Condition()
                self._b = threading.Lock()
                other.x = threading.Lock()
            @staticmethod
            def make(self):
                self.s = threading.Lock()
            def later(me):
                me.m = threading.Semaphore(2)
                def inner(self):
                    self.hidden = threading.Lock()
        """
    )
    assert instance_lock_attributes(ctx, cls_named(ctx, "C")) == ["_b", "_a", "m"]


def test_project_lock_maker_counts_when_named_like_a_lock():
    ctx = context("class C:\n    def __init__(self):\n        self._state_lock = make()\n        self.other = make()\n")
    ctx.project_lock_makers = {"make": "ftmigrate.lockmakers"}
    assert instance_lock_attributes(ctx, cls_named(ctx, "C")) == ["_state_lock"]


def test_thread_safe_member_first_in_source_order():
    ctx = context(
        """\
        import queue as q
        from queue import SimpleQueue
        class C:
            @decorate(lambda: None)
            def f(self):
                self.a = SimpleQueue()
            b = q.PriorityQueue
        """
    )
    assert thread_safe_member(ctx, cls_named(ctx, "C")) == "queue.SimpleQueue"


def test_says_thread_safe_needs_ctx_only_for_one_line_bodies():
    ctx = context('class C:\n    def f(self): "It is thread safe."\n')
    assert says_thread_safe(cls_named(ctx, "C")) == "thread safe"
    assert says_thread_safe(cls_named(ctx, "C"), ctx) is None


def test_handed_to_threads_and_entry_methods():
    ctx = context(
        """\
        import threading
        class C:
            def a(self): pass
            def b(self): pass
            def c(self): pass
            def go(self):
                for _ in range(2):
                    threading.Thread(target=self.a).start()
                threading.Thread(None, target=self.b)
                threading.Timer(1.0, self.c, kwargs={})
                pool.map(*self.jobs)
                pool.submit(**options)
        """
    )
    handed = [(ctx.code(expr), pool) for _call, expr, pool in handed_to_threads(ctx)]
    assert handed == [("self.a", False), ("self.b", False), ("self.c", False), ("self.jobs", True), ("options", True)]
    assert thread_entry_methods(ctx, cls_named(ctx, "C")) == {"a": True, "b": False, "c": False}


def test_self_of_another_class_is_not_an_entry():
    ctx = context(
        "import threading\nclass C:\n    def run(self): pass\nclass D:\n    def go(self):\n"
        "        threading.Thread(target=self.run)\n"
    )
    assert thread_entry_methods(ctx, cls_named(ctx, "C")) == {}


def test_called_functions_follows_calls_in_order():
    ctx = context(
        """\
        def a(): b()
        def b(): pass
        def c(): a()
        class K:
            def m(self):
                self.n()
                K.o()
            def n(self): c()
            async def o(self): pass
        def top():
            K().m(); unknown(); a()
        """
    )
    top = func_named(ctx, "top")
    assert [f.name for f in called_functions(ctx, [top.body], top)] == ["a", "b"]
    m = func_named(ctx, "m")
    assert [f.name for f in called_functions(ctx, [m.body], m)] == ["n", "o", "c", "a", "b"]
    # statements given one by one are followed from the last
    assert [f.name for f in called_functions(ctx, m.body, m)] == ["o", "n", "c", "a", "b"]


CLOSURES = [
    pytest.param("def f():\n    def g(): pass\n    g()\n", None, id="called-in-place"),
    pytest.param("def f():\n    x = 1\n", None, id="no-closure"),
    pytest.param("def f():\n    def g(): pass\n    return g\n", "leaves", id="returned"),
    pytest.param("def f():\n    def g(): pass\n    sorted(xs, key=g)\n", "passed", id="key-function"),
    pytest.param("def f():\n    def g(): pass\n    threading.Thread(target=g)\n", "thread", id="thread-target"),
    pytest.param("def f():\n    def g(): pass\n    loop.run_in_executor(None, g)\n", "thread", id="run-in-executor"),
    pytest.param("def f():\n    def g(): pass\n    atexit.register(g)\n", "leaves", id="callback"),
    pytest.param("def f():\n    @wraps(h)\n    def g(): pass\n    g()\n", None, id="wraps"),
    pytest.param("def f():\n    @app.route('/')\n    def g(): pass\n", "leaves", id="decorated"),
    pytest.param("def f():\n    def g(): pass\n    app.route('/')(g)\n", "leaves", id="decorator-by-hand"),
    pytest.param("def f():\n    def g(): pass\n    table = {'k': g}\n    table['k']()\n", "passed", id="local-table-called"),
    pytest.param("def f():\n    def g(): pass\n    table = {'k': g}\n    return table\n", "leaves", id="local-table-returned"),
    pytest.param("def f(reg):\n    def g(): pass\n    reg.append(g)\n", "leaves", id="stored-in-parameter"),
    pytest.param("def f():\n    def g(): pass\n    hs = []\n    hs.append(g)\n    for h in hs:\n        h()\n", "passed", id="local-list-loop"),
    pytest.param("def f():\n    def g(): pass\n    p = partial(g, 1)\n    p()\n", "passed", id="partial-called"),
    pytest.param("def f():\n    def g(): pass\n    self.cb = g\n", "leaves", id="stored-on-object"),
    pytest.param("def f():\n    def g(): pass\n    g = None\n", None, id="rebound"),
    pytest.param("def f():\n    def g(): pass\n    del g\n", None, id="deleted"),
    pytest.param("def f():\n    def g(): pass\n    del x, g\n", "leaves", id="deleted-with-others"),
    pytest.param("def f():\n    def g(): pass\n    def h(cb=g): pass\n", None, id="default-value"),
    pytest.param("def f():\n    def g(): pass\n    use(**{**g})\n", "leaves", id="dict-unpacking"),
    pytest.param("def f():\n    def g(): pass\n    use(*[g])\n", "passed", id="starred-list-argument"),
    pytest.param("def f():\n    def g(): pass\n    run(lambda: g())\n", "passed", id="lambda-passed"),
    pytest.param("def f():\n    def g(): pass\n    g\n", None, id="dropped"),
    pytest.param("def f():\n    def g(): pass\n    @g\n    def h(): pass\n", "leaves", id="used-as-decorator"),
]


@pytest.mark.parametrize(("code", "escape"), CLOSURES)
def test_closure_escapes(code, escape):
    ctx = context(code)
    assert closure_escapes(ctx, func_named(ctx, "f")) == escape


def test_closure_handed_to_thread_through_handed_to_threads():
    ctx = context("def f():\n    def g(): pass\n    pool.submit(g)\n")
    assert closure_escapes(ctx, func_named(ctx, "f")) == "thread"


def test_designed_for_threads():
    ctx = context(
        """\
        import queue as qq
        from queue import Queue
        class A:
            '''A thread-safe pool.'''
        class B:
            '''This is not thread-safe, but thread-safe elsewhere.'''
        class C:
            def __init__(self):
                self.a = qq.SimpleQueue()
                self.b = Queue()
        class D:
            def __init__(self):
                self.q = asyncio.Queue()
        """
    )
    assert designed_for_threads(ctx, cls_named(ctx, "A")) == "its docstring says it is thread-safe"
    assert designed_for_threads(ctx, cls_named(ctx, "B")) is None
    assert designed_for_threads(ctx, cls_named(ctx, "C")) == (
        "it creates `qq.SimpleQueue()` objects, which hand work between threads"
    )
    assert designed_for_threads(ctx, cls_named(ctx, "D")) is None


def test_documented_not_thread_safe():
    ctx = context(
        """\
        class K:
            '''Not thread-safe.'''
            def m(self): pass
        def f():
            '''This is not safe for use in concurrent threads.'''
        def g():
            '''Fast.'''
        """
    )
    assert documented_not_thread_safe(ctx, func_named(ctx, "m")) == "`K`"
    assert documented_not_thread_safe(ctx, func_named(ctx, "f")) == "`f()`"
    assert documented_not_thread_safe(ctx, func_named(ctx, "g")) is None


def test_cached_answers_are_not_changed_by_callers():
    ctx = context(
        "import threading\nclass C:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
        "    def a(self): pass\n    def go(self):\n        threading.Thread(target=self.a)\n"
    )
    cls = cls_named(ctx, "C")
    thread_entry_methods(ctx, cls).setdefault("run", False)
    instance_lock_attributes(ctx, cls).append("x")
    assert thread_entry_methods(ctx, cls) == {"a": False}
    assert instance_lock_attributes(ctx, cls) == ["_lock"]
