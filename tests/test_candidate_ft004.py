"""FT004's ``candidate()`` (``codemods.ft004_shared_item_attr_rmw``): a
necessary condition for check() to yield a site.

Every shape check() reports (and every example and fixture with a site) passes it; typical
code without a site does not. Each case also runs check() itself, so a case that stops
meaning what it says fails instead of passing vacuously.
"""

from __future__ import annotations

import ast
import re
import warnings

import pytest

from codemods.ft004_shared_item_attr_rmw import SharedItemAttributeReadModifyWrite
from ftmigrate.analysis import FileContext
from ftmigrate.sourcefile import decode_source
from tests.conftest import TESTDATA

RULE = SharedItemAttributeReadModifyWrite()


def _parse(code: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(code)


def _sites(code: str, shared_classes: frozenset[str] = frozenset()) -> list:
    return list(RULE.check(FileContext(_parse(code), code, shared_classes=shared_classes)))


def _candidate(code: str, shared_classes: frozenset[str] = frozenset()) -> bool:
    return RULE.candidate(_parse(code), shared_classes)


def _shared_classes(code: str) -> frozenset[str]:
    match = re.search(r"ftmigrate-test: shared-classes=([\w,]+)", code)
    return frozenset(match.group(1).split(",")) if match else frozenset()


# Each has at least one site (asserted), of the shape its name says.
SITES = {
    "module dict item": "stats = {}\n\ndef f(k):\n    stats[k] += 1\n",
    "item of an item": "grid = [[0]]\n\ndef f(i, j):\n    grid[i][j] -= 1\n",
    "get plus one": "counts = {}\n\ndef f(k):\n    counts[k] = counts.get(k, 0) + 1\n",
    "operand further down the chain": "stats = {}\n\ndef f(k, n):\n    stats[k] = n * 2 + stats[k] - 1\n",
    "module item from a for target": "for table in [{}]:\n    pass\n\ndef f(k):\n    table[k] += 1\n",
    "module item, assignment in an if": "try:\n    import x\nexcept ImportError:\n    cache = {}\n\ndef f(k):\n    cache[k] += 1\n",
    "imported container": "from registry import counts\n\ndef f(k):\n    counts[k] += 1\n",
    "imported module attribute": "import config\n\ndef f():\n    config.retries -= 1\n",
    "dotted imported module attribute": "import pkg.settings\n\ndef f():\n    pkg.settings.level = pkg.settings.level + 1\n",
    "top-level class attribute": "class Counter:\n    total = 0\n\ndef f():\n    Counter.total += 1\n",
    "classmethod": "class Counter:\n    total = 0\n\n    @classmethod\n    def add(cls):\n        cls.total = cls.total + 1\n",
    "__new__": "class C:\n    made = 0\n\n    def __new__(cls):\n        cls.made += 1\n        return object.__new__(cls)\n",
    "type(self)": "class C:\n    hits = 0\n\n    def f(self):\n        type(self).hits += 1\n",
    "self.__class__": "class C:\n    hits = 0\n\n    def f(self):\n        self.__class__.hits += 1\n",
    "instance lock attribute": "import threading\n\nclass C:\n    def __init__(self):\n        self._lock = threading.Lock()\n\n"
    "    def f(self):\n        self.hits += 1\n",
    "instance lock set outside __init__": "import threading\n\nclass C:\n    def open(self):\n        self._guard = threading.RLock()\n\n"
    "    def f(self, k):\n        self.counts[k] += 1\n",
    "lock factory imported under another name": "from threading import Condition as Cond\n\nclass C:\n    def __init__(self):\n"
    "        self.ready = Cond()\n\n    def f(self):\n        self.n = self.n + 1\n",
    "threading imported under another name": "import threading as t\n\nclass C:\n    def __init__(self):\n        self._mutex = t.Lock()\n\n"
    "    def f(self):\n        self.n += 1\n",
    "async method with a lock": "import threading\n\nclass C:\n    def __init__(self):\n        self._lock = threading.Lock()\n\n"
    "    async def f(self):\n        self.n += 1\n",
    "Thread subclass, run and another writer": "import threading\n\nclass W(threading.Thread):\n    def run(self):\n"
    "        self.done += 1\n\n    def reset(self):\n        self.done = 0\n",
    "Thread imported under another name": "from threading import Thread as T\n\nclass W(T):\n    def run(self):\n"
    "        self.done += 1\n\n    def reset(self):\n        self.done = 0\n",
    "method handed to an executor": "class Job:\n    def step(self):\n        self.n += 1\n\njob = Job()\npool.submit(job.step)\n",
    "method handed to threads in a loop": "import threading\n\nclass Job:\n    def work(self):\n        self.n += 1\n\n"
    "    def start(self):\n        for _ in range(4):\n            threading.Thread(target=self.work).start()\n",
    "class alias of self": "class C:\n    total = 0\n\n    def add(self):\n        cls = type(self)\n        cls.total += 1\n",
    "classproperty": "class C:\n    n = 0\n\n    @classproperty\n    def next(cls):\n        cls.n += 1\n        return cls.n\n",
    "function's own attribute": "def memoize(fun):\n    def _M(*a):\n        _M.misses += 1\n        return fun(*a)\n    return _M\n",
    "module function's own attribute": "def counted():\n    counted.calls += 1\n",
    "thread-safe queue member": "import queue\n\nclass Pool:\n    QueueCls = queue.LifoQueue\n\n    def _new_conn(self):\n        self.num_connections += 1\n",
    "subclass of a pool with a queue": "import queue\n\nclass Pool:\n    def __init__(self):\n        self.pool = queue.Queue()\n\n"
    "class HTTPSPool(Pool):\n    def _new_conn(self):\n        self.num_connections += 1\n",
    "docstring says thread-safe": "class Stats:\n    \"\"\"Stats is thread-safe.\"\"\"\n\n    def hit(self):\n        self.hits += 1\n",
    "update under another lock": "import threading\n\nclass C:\n    def __init__(self):\n        self._a = threading.Lock()\n        self._b = threading.Lock()\n\n"
    "    def f(self):\n        with self._a:\n            self.n += 1\n\n    def g(self):\n        with self._b:\n            self.n -= 1\n",
    "statement nested in compound statements": "import threading\nstats = {}\nlock = threading.Lock()\n\n"
    "def f(k):\n    with lock:\n        try:\n            if k:\n                stats[k] += 1\n        finally:\n            pass\n",
    "match case": "stats = {}\n\ndef f(k):\n    match k:\n        case 1:\n            stats[k] += 1\n",
    "async function": "stats = {}\n\nasync def f(k):\n    stats[k] += 1\n",
    "function nested in a method": "stats = {}\n\nclass C:\n    def f(self):\n        def g(k):\n            stats[k] += 1\n        return g\n",
}


@pytest.mark.parametrize("code", SITES.values(), ids=SITES.keys())
def test_shapes_with_a_site_are_candidates(code):
    assert _sites(code), "the case has no site: it tests nothing"
    assert _candidate(code)


# Each has no site (asserted) and is rejected.
NO_SITES = {
    "local container": "def f(k):\n    stats = {}\n    stats[k] += 1\n",
    "module-level statement": "stats = {}\nstats['x'] += 1\n",
    "class body statement": "stats = {}\n\nclass C:\n    stats['x'] += 1\n",
    "plain instance": "class Point:\n    def move(self, dx):\n        self.x += dx\n",
    "attribute of a module-level object": "import threading\nlocal = threading.local()\n\ndef f():\n    local.counter += 1\n",
    "name bound by def only": "def registry():\n    pass\n\ndef f(k):\n    registry[k] += 1\n",
    "attribute of a parameter": "def f(o):\n    o.n += 1\n",
    "different attribute read": "import config\n\ndef f(o):\n    config.retries = o.retries + 1\n",
    "plain names": "counter = 0\n\ndef f():\n    global counter\n    counter += 1\n",
    "constructor": "import threading\n\nclass C:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
    "        self.hits = 0\n        self.hits += 1\n",
    "staticmethod": "import threading\n\nclass C:\n    _lock = threading.Lock()\n\n    @staticmethod\n"
    "    def f(self):\n        self.n += 1\n",
    "__init_subclass__": "class C:\n    n = 0\n\n    def __init_subclass__(cls):\n        cls.n += 1\n",
    "Thread subclass, only run writes": "import threading\n\nclass W(threading.Thread):\n    def run(self):\n        self.done += 1\n",
    "handed-off method does not write": "class Job:\n    def step(self):\n        pass\n\n    def bump(self):\n"
    "        self.n += 1\n\njob = Job()\npool.submit(job.step)\n",
    "nested class attribute, not top-level": "def make():\n    class Counter:\n        total = 0\n    return Counter\n\n"
    "def f(Counter):\n    Counter.total += 1\n",
    "attribute of another function": "def other():\n    pass\n\ndef f():\n    other.calls += 1\n",
    "listed class elsewhere": "class Report:\n    def add(self):\n        self.lines += 1\n",
}


@pytest.mark.parametrize("code", NO_SITES.values(), ids=NO_SITES.keys())
def test_code_without_sites_is_rejected(code):
    assert not _sites(code)
    assert not _candidate(code)


def test_shared_classes_opt_a_class_in():
    code = "class Metrics:\n    def observe(self):\n        self.requests += 1\n"
    assert not _sites(code) and not _candidate(code)
    listed = frozenset({"Metrics"})
    assert _sites(code, listed) and _candidate(code, listed)
    assert not _candidate(code, frozenset({"Other"}))


def _examples_and_fixtures() -> list[tuple[str, str]]:
    cases = [(f"INVALID[{i}]", e.code) for i, e in enumerate(RULE.INVALID)]
    cases += [(f"VALID[{i}]", code) for i, code in enumerate(RULE.VALID)]
    for before in sorted(TESTDATA.glob("FT*/*.py")):
        cases.append((f"{before.parent.name}/{before.name}", decode_source(before, before.read_bytes()).text))
    return cases


def _rmw_shapes(code: str) -> list[str]:
    """Written for this test, independently of the rule: the statements inside functions that
    look like a read-modify-write of an item or attribute (``x[k] += 1``, ``o.a -= 1``,
    ``o.a = o.a + 1``, ``d[k] = d.get(k, 0) + 1``). FT004 reports nothing else, so a
    file without any is never a candidate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(code)
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.AugAssign) and isinstance(node.target, (ast.Subscript, ast.Attribute)):
                found.append(ast.unparse(node))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], (ast.Subscript, ast.Attribute)):
                target = node.targets[0]
                read = {ast.unparse(n) for n in ast.walk(node.value)}
                gets = {
                    ast.unparse(n.func.value)
                    for n in ast.walk(node.value)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get"
                }
                if ast.unparse(target) in read or (isinstance(target, ast.Subscript) and ast.unparse(target.value) in gets):
                    found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize("name, code", _examples_and_fixtures(), ids=lambda v: v if v.endswith((".py", "]")) else "")
def test_every_example_and_fixture_agrees_with_check(name, code):
    """Each case asserts one of two things: where candidate() says no, check() finds nothing
    (the fast path loses no finding); where it says yes, the file has a read-modify-write
    shape in a function (candidate() is not simply True)."""
    shared = _shared_classes(code)
    if _candidate(code, shared):
        assert _rmw_shapes(code), f"{name}: a candidate without any read-modify-write of an item or attribute"
    else:
        assert not _sites(code, shared), f"{name}: check() finds a site that candidate() rejects"


def test_examples_and_fixtures_with_findings_are_candidates():
    """The ones that must pass, listed: every INVALID example and every FT004 fixture the fix changes."""
    sources = [e.code for e in RULE.INVALID]
    for before in sorted((TESTDATA / "FT004").glob("*.before.py")):
        after = before.with_name(before.name.replace(".before.py", ".after.py"))
        if before.read_bytes() != after.read_bytes():
            sources.append(decode_source(before, before.read_bytes()).text)
    assert len(sources) >= 15
    for code in sources:
        assert _candidate(code, _shared_classes(code)), code


def test_fixtures_without_sites_are_mostly_rejected():
    """A sanity check of tightness: fixtures of the other rules rarely have FT004 sites."""
    others = [p for p in sorted(TESTDATA.glob("FT00[123]/*.before.py"))]
    texts = [decode_source(p, p.read_bytes()).text for p in others]
    rejected = [t for t in texts if not _candidate(t, _shared_classes(t))]
    assert len(rejected) >= len(texts) // 2


def test_a_class_lock_found_later_in_the_file_still_counts():
    # `from threading import Lock` after the class: the factory name is resolved at the end.
    code = "class C:\n    def __init__(self):\n        self.guard = L()\n\n    def f(self):\n        self.n += 1\n\nfrom threading import Lock as L\n"
    assert _sites(code) and _candidate(code)
    assert not _candidate(code.replace("from threading import Lock as L\n", "from other import Lock as L\n"))


def test_module_binding_must_be_at_module_level():
    code = "def setup():\n    stats = {}\n\ndef f(k):\n    stats[k] += 1\n"
    assert not _sites(code) and not _candidate(code)
    assert _candidate("stats = None\n" + code)


def test_candidate_handles_all_statement_kinds():
    """try/except*, while/else and with at module level do not trip it up; a `with ... as`
    target at module level counts as a module binding (check() does not, a safe superset)."""
    code = (
        "try:\n    pass\nexcept* ValueError:\n    pass\n"
        "while False:\n    pass\nelse:\n    pass\n"
        "with open('x') as fh:\n    pass\n"
        "def f(k):\n    fh[k] += 1\n"
    )
    assert _candidate(code)
    assert not _candidate(code.replace("fh[k]", "gh[k]"))
