"""FT003's prefilters (``codemods.ft003_lazy_init``: ``prefilter`` on the text, ``candidate`` on the ``ast``) are necessary
conditions: every file where ``check()`` yields a site (a finding or an already locked one)
passes both. And they are tight: typical code without a site does not pass ``candidate``."""

from __future__ import annotations

import ast
import warnings

import pytest

from codemods.ft003_lazy_init import LazyInitialisation
from ftmigrate.analysis import FileContext
from ftmigrate.sourcefile import decode_source
from tests.conftest import TESTDATA

RULE = LazyInitialisation()


def sites(code: str, shared_classes: tuple[str, ...] = ()) -> list:
    """What ``check()`` itself yields, prefilters bypassed (guarded sites included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(code)
    return list(RULE.check(FileContext(tree, code, shared_classes=shared_classes)))


def passes(code: str, shared_classes: tuple[str, ...] = ()) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(code)
    return RULE.prefilter(code) and RULE.candidate(tree, frozenset(shared_classes))


def _fixtures() -> list:
    return sorted((TESTDATA / "FT003").glob("*.before.py"))


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: p.name)
def test_every_fixture_with_a_site_is_a_candidate(path):
    code = decode_source(path, path.read_bytes()).text
    after = path.with_name(path.name.replace(".before.py", ".after.py"))
    found = sites(code)
    if path.read_bytes() != after.read_bytes():
        assert found, "a fixed fixture must have a site"
    if found:
        assert passes(code)


def test_fixtures_without_sites_are_rejected():
    """The fixtures that show what is *not* reported (a local, an eager instance) are no candidates."""
    quiet = [p for p in _fixtures() if not sites(decode_source(p, p.read_bytes()).text)]
    assert {p.name for p in quiet} >= {"local_variable.before.py", "eager_module_instance.before.py"}
    for path in quiet:
        assert not passes(decode_source(path, path.read_bytes()).text), path.name


@pytest.mark.parametrize("index", range(len(RULE.INVALID)))
def test_invalid_examples_are_candidates(index):
    code = RULE.INVALID[index].code
    assert sites(code)
    assert passes(code)


LOCK_CLASS = "import threading\n\nclass C:\n    _lock = threading.Lock()\n\n"

# Each shape check() reports, one per entry: (code, shared_classes).
SHAPES = {
    "new_singleton": ("class S:\n    _i = None\n    def __new__(cls):\n        if cls._i is None:\n            cls._i = object.__new__(cls)\n        return cls._i\n", ()),
    "classmethod_not_hasattr": ("class S:\n    @classmethod\n    def get(cls):\n        if not hasattr(cls, '_i'):\n            cls._i = cls()\n        return cls._i\n", ()),
    "not_in_dict": ("class S:\n    @classmethod\n    def get(k):\n        if '_i' not in k.__dict__:\n            k._i = k()\n        return k._i\n", ()),
    "class_getitem": ("class S:\n    def __class_getitem__(cls, item):\n        if not cls._cache:\n            cls._cache = {}\n        return cls\n", ()),
    "named_class_in_function": ("class Registry:\n    _i = None\n\ndef get():\n    if Registry._i is None:\n        Registry._i = Registry()\n    return Registry._i\n", ()),
    "named_class_in_staticmethod": ("class R:\n    _i = None\n    @staticmethod\n    def get():\n        if not R._i:\n            R._i: object = R()\n        return R._i\n", ()),
    "global_is_none": ("_c = None\n\ndef get():\n    global _c\n    if _c is None:\n        _c = make()\n    return _c\n", ()),
    "global_not_parenthesised": ("_c = 0\n\ndef get():\n    global _c\n    if not(_c):\n        _c = make()\n    return _c\n", ()),
    "global_nested_in_blocks": ("_c = 0\n\nasync def get(x):\n    global _c\n    try:\n        for y in x:\n            with y:\n                if _c is None:\n                    pass\n                elif not _c:\n                    _c = 1\n    finally:\n        pass\n", ()),
    "global_in_match": ("_c = 0\n\ndef get(x):\n    global _c\n    match x:\n        case 1:\n            if _c is None:\n                try:\n                    _c = make()\n                except E:\n                    pass\n", ()),
    "nested_function_own_global": ("def outer():\n    def inner():\n        global _c\n        if _c is None:\n            _c = 1\n    return inner\n", ()),
    "global_or_assign": ("_r = None\n\ndef reg():\n    global _r\n    _r = (_r or {})\n    return _r\n", ()),
    "global_or_assign_chain": ("_r = None\n\ndef reg():\n    global _r\n    _r = (_r or a) or b\n", ()),
    "own_class_or_assign": ("class R:\n    _m = None\n    @classmethod\n    def get(cls):\n        cls._m = cls._m or {}\n        return cls._m\n", ()),
    "thread_subclass": ("import threading\n\nclass W(threading.Thread):\n    def run(self):\n        if self._c is None:\n            self._c = connect()\n", ()),
    "thread_subclass_imported_as": ("from threading import Thread as T\n\nclass W(T):\n    def run(me):\n        if me._c is None:\n            me._c = connect()\n", ()),
    "instance_lock_outside_init": ("import threading\n\nclass C:\n    def open(self):\n        self._lock = threading.Lock()\n\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n        return self._c\n", ()),
    "instance_lock_imported_factory": ("from threading import RLock as L\n\nclass C:\n    def __init__(self):\n        self.guard = L()\n\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n", ()),
    "instance_lock_module_alias": ("import threading as t\n\nclass C:\n    def __init__(self):\n        self._state_lock = t.RLock()\n\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n", ()),
    "method_handed_to_thread": ("import threading\n\nclass C:\n    def start(self):\n        threading.Thread(target=self.work).start()\n\n    def work(self):\n        if self._c is None:\n            self._c = connect()\n", ()),
    "method_handed_to_pool": ("class C:\n    def work(self):\n        if self._c is None:\n            self._c = connect()\n\nc = C()\n\ndef main(pool):\n    pool.submit(c.work)\n", ()),
    "method_handed_to_timer": ("import threading\n\nclass C:\n    def work(self):\n        if self._c is None:\n            self._c = connect()\n\nc: C = C()\nthreading.Timer(1.0, c.work).start()\n", ()),
    "configured_shared_class": ("class Conn:\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n        return self._c\n", ("Conn",)),
    "already_locked": (LOCK_CLASS + "    @classmethod\n    def get(cls):\n        with cls._lock:\n            if cls._i is None:\n                cls._i = cls()\n        return cls._i\n", ()),
    "lru_cache_module_alias": ("import functools as ft\n\n@ft.lru_cache(maxsize=None)\ndef settings():\n    return load()\n", ()),
    "cache_imported_as": ("from functools import cache as memo\n\nclass C:\n    @staticmethod\n    @memo\n    async def settings():\n        return load()\n", ()),
    "class_alias_of_self": ("class L:\n    lua = None\n    def register(self):\n        cls = self.__class__\n        if cls.lua is None:\n            cls.lua = make()\n", ()),
    "class_alias_type_of_self": ("class L:\n    def register(self):\n        kind = type(self)\n        if not kind._m:\n            kind._m = {}\n", ()),
    "classproperty": ("class R:\n    _m = None\n    @classproperty\n    def M(cls):\n        if cls._m is None:\n            cls._m = make()\n        return cls._m\n", ()),
    "thread_safe_queue_member": ("import queue\n\nclass P:\n    QueueCls = queue.LifoQueue\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n", ()),
    "queue_member": ("from queue import Queue\n\nclass P:\n    def __init__(self):\n        self.jobs = Queue()\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n", ()),
    "docstring_says_shared": ("class T:\n    def open(self):\n        \"\"\"T is shared among multiple threads.\"\"\"\n        if self._pid is None:\n            self._pid = 1\n", ()),
    "base_class_shared_by_design": ("class B:\n    \"\"\"This class is thread-safe.\"\"\"\n\nclass C(B):\n    def get(self):\n        if self._c is None:\n            self._c = 1\n", ()),
    "non_ascii_attribute": ("class S:\n    @classmethod\n    def get(cls):\n        if not hasattr(cls, 'ﬁle'):\n            cls.ﬁle = cls()\n        return cls.ﬁle\n", ()),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_check_reports_is_a_candidate(name):
    code, shared = SHAPES[name]
    assert sites(code, shared), "the shape must really be a site"
    assert passes(code, shared)


# Code check() does not report, each one step from a shape above: (code, shared_classes).
NOT_CANDIDATES = {
    "no_function": ("_c = None\nif _c is None:\n    _c = make()\n", ()),
    "local_variable": ("def f():\n    c = None\n    if c is None:\n        c = make()\n    return c\n", ()),
    "global_of_another_function": ("def outer():\n    global _c\n    def inner():\n        if _c is None:\n            _c = 1\n", ()),
    "global_updated_not_created": ("def f():\n    global _c\n    if not _c:\n        _c += 1\n", ()),
    "other_name_assigned": ("def f():\n    global _c\n    if _c is None:\n        _d = 1\n", ()),
    "assigned_in_else_only": ("def f():\n    global _c\n    if _c is None:\n        pass\n    else:\n        _c = 1\n", ()),
    "assigned_in_nested_function": ("def f():\n    global _c\n    if _c is None:\n        def g():\n            _c = 1\n", ()),
    "other_test": ("def f():\n    global _c\n    if _c == 0:\n        _c = 1\n", ()),
    "or_of_another_name": ("def f():\n    global _c\n    _c = _d or {}\n", ()),
    "and_not_or": ("def f():\n    global _c\n    _c = _c and {}\n", ()),
    "unshared_instance": ("class Conn:\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n        return self._c\n", ()),
    "unshared_instance_other_config": ("class Conn:\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n", ("Other",)),
    "other_method_handed_to_thread": ("import threading\n\nclass C:\n    def get(self):\n        if self._c is None:\n            self._c = connect()\n\ndef main(c):\n    threading.Thread(target=c.other).start()\n", ()),
    "parameter_attribute": ("class R:\n    pass\n\ndef f(obj):\n    if obj._i is None:\n        obj._i = 1\n", ()),
    "class_name_shadowed_by_parameter": ("class R:\n    _i = None\n\ndef f(R):\n    if R._i is None:\n        R._i = 1\n", ()),
    "class_not_top_level": ("def make():\n    class R:\n        _i = None\n    return R\n\ndef f():\n    if R._i is None:\n        R._i = 1\n", ()),
    "cache_with_parameters": ("import functools\n\n@functools.lru_cache\ndef load(name):\n    return open(name).read()\n", ()),
    "cache_not_from_functools": ("from mycache import lru_cache\n\n@lru_cache\ndef settings():\n    return load()\n", ()),
    "functools_imported_in_function": ("def f():\n    import functools\n\n    @functools.cache\n    def settings():\n        return load()\n", ()),
    "deep_attribute": ("class A:\n    @classmethod\n    def get(cls):\n        if cls.a.b is None:\n            cls.a.b = 1\n", ()),
    "hasattr_of_non_identifier": ("class A:\n    @classmethod\n    def get(cls):\n        if not hasattr(cls, 'a-b'):\n            setattr(cls, 'a-b', 1)\n", ()),
}


@pytest.mark.parametrize("name", sorted(NOT_CANDIDATES))
def test_code_without_sites_is_no_candidate(name):
    code, shared = NOT_CANDIDATES[name]
    assert not sites(code, shared), "the case must really have no site"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not RULE.candidate(ast.parse(code), frozenset(shared))


@pytest.mark.parametrize(
    "code",
    [
        "x = 1\n",
        "def f(a, b):\n    return a + b\n",
        "# None, not, or: in a comment and nothing else\ny = 2\n",
        "def f(x):\n    if x is None:\n        x = 1\n    return x\n",  # no global, no class
    ],
)
def test_prefilter_rejects_files_without_the_means_of_a_site(code):
    assert not RULE.prefilter(code)


@pytest.mark.parametrize(
    "code",
    [
        "_c = 0\ndef f():\n    global _c\n    if not(_c):\n        _c = 1\n",  # no blank after `not`
        "_c = 0\ndef f():\n    global _c\n    _c = (_c)or(1)\n",  # none around `or`
        "_c = 0\ndef f():\n    global _c\n    if not\\\n            _c:\n        _c = 1\n",
    ],
)
def test_prefilter_keywords_need_no_blanks(code):
    assert sites(code)
    assert passes(code)
