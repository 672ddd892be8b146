"""(The ast port, ``codemods.ft002_check_then_act``.) FT002's prefilters (``prefilter`` on the text, ``candidate`` on the ``ast``) are necessary
conditions of check(): every shape check() reports passes both; and they are tight: typical
files without such a shape are rejected."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

from codemods.ft002_check_then_act import CheckThenAct
from ftmigrate.analysis import FileContext
from ftmigrate.sourcefile import decode_source
from tests.conftest import TESTDATA

RULE = CheckThenAct()


def _parse(code: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(code)


def sites(code: str) -> list:
    return list(RULE.check(FileContext(_parse(code), code, Path("example.py"))))


def candidate(code: str) -> bool:
    return RULE.candidate(_parse(code))


# Every shape check() reports: (id, code). Each must have a site, so the table stays honest.
REPORTED = [
    ("list_append", "seen = []\n\ndef f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("dict_store", "cache = {}\n\ndef f(k):\n    if k not in cache:\n        cache[k] = compute(k)\n    return cache[k]\n"),
    ("dict_delete", "pending = {}\n\ndef f(k):\n    if k in pending:\n        del pending[k]\n"),
    ("delete_tuple", "a = {}\nb = {}\n\ndef f(k):\n    if k in b:\n        del a[k], b[k]\n"),
    ("augmented", "counts = {}\n\ndef f(k):\n    if k in counts:\n        counts[k] += 1\n"),
    ("annotated", "counts = {}\n\ndef f(k):\n    if k not in counts:\n        counts[k]: int = 0\n"),
    ("get_test", "cache = {}\n\ndef f(k):\n    if cache.get(k) is None:\n        cache[k] = 1\n"),
    ("not_get", "cache = {}\n\ndef f(k):\n    if not cache.get(k):\n        cache.setdefault(k, [])\n"),
    ("test_in_boolean", "seen = set()\n\ndef f(x, y):\n    if y and x not in seen:\n        seen.add(x)\n"),
    ("chained", "seen = set()\n\ndef f(a, b):\n    if a < b in seen:\n        seen.discard(b)\n"),
    ("in_lambda_of_test", "seen = set()\n\ndef f(xs):\n    if any(map(lambda x: x in seen, xs)):\n        seen.clear()\n"),
    ("change_in_comprehension", "seen = []\n\ndef f(xs):\n    if xs[0] not in seen:\n        [seen.append(x) for x in xs]\n"),
    ("elif", "seen = []\n\ndef f(x, y):\n    if y:\n        pass\n    elif x not in seen:\n        seen.append(x)\n"),
    ("else", "seen = set()\n\ndef f(x):\n    if x in seen:\n        print(x)\n    else:\n        seen.add(x)\n"),
    ("change_in_later_elif", "seen = set()\n\ndef f(x, y):\n    if x in seen:\n        pass\n    elif y:\n        seen.add(x)\n"),
    ("early_return", "seen = set()\n\ndef f(x):\n    if x in seen:\n        return\n    print(x)\n    seen.add(x)\n"),
    ("early_raise", "seen = set()\n\ndef f(x):\n    if x in seen: raise KeyError(x)\n    seen.add(x)\n"),
    ("continue", "seen = set()\n\ndef f(xs):\n    for x in xs:\n        if x in seen:\n            continue\n        seen.add(x)\n"),
    ("elif_leaves", "seen = set()\n\ndef f(x, y):\n    if y:\n        pass\n    elif x in seen:\n        return\n    seen.add(x)\n"),
    ("nested_block", "seen = []\n\ndef f(xs):\n    for x in xs:\n        try:\n            if x not in seen:\n                seen.append(x)\n        finally:\n            pass\n"),
    ("in_match_case", "seen = []\n\ndef f(x):\n    match x:\n        case _:\n            if x not in seen:\n                seen.append(x)\n"),
    ("async", "seen = []\n\nasync def f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("global_only", "def f(x):\n    global seen\n    if x not in seen:\n        seen.append(x)\n"),
    ("module_for_target", "for seen in [[]]:\n    pass\n\ndef f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("module_in_if", "try:\n    seen = []\nexcept Exception:\n    pass\n\ndef f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("module_tuple_target", "seen, other = [], []\n\ndef f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("nonlocal", "def make():\n    cache = {}\n\n    def get(k):\n        nonlocal cache\n        if k not in cache:\n            cache[k] = 1\n"
     "        return cache[k]\n\n    get(1)\n"),
    ("returned_closure", "def make():\n    cache = {}\n\n    def get(k):\n        if k not in cache:\n            cache[k] = 1\n        return cache[k]\n\n    return get\n"),
    ("closure_to_thread", "import threading\n\ndef make():\n    seen = []\n\n    def work(x):\n        if x not in seen:\n            seen.append(x)\n\n"
     "    threading.Thread(target=work).start()\n"),
    ("closure_param", "def make(seen):\n    def add(x):\n        if x not in seen:\n            seen.append(x)\n    return add\n"),
    ("self", "class A:\n    def f(self, x):\n        if x not in self.items:\n            self.items.append(x)\n"),
    ("self_dict", "class A:\n    def f(self, k):\n        if k in self.d:\n            del self.d[k]\n"),
    ("classmethod", "class A:\n    registry = {}\n\n    @classmethod\n    def f(cls, k):\n        if k not in cls.registry:\n            cls.registry[k] = 1\n"),
    ("class_name", "class Plugin:\n    registry = {}\n\ndef f(k):\n    if k in Plugin.registry:\n        Plugin.registry.pop(k)\n"),
    ("method_in_nested_class", "def outer():\n    class A:\n        def f(self, x):\n            if x not in self.s:\n                self.s.add(x)\n    return A\n"),
    ("locked_already", "import threading\nseen = []\nlock = threading.Lock()\n\ndef f(x):\n    with lock:\n        if x not in seen:\n            seen.append(x)\n"),
    ("lock_inside", "import threading\nseen = []\nlock = threading.Lock()\n\ndef f(x):\n    if x not in seen:\n        with lock:\n            seen.append(x)\n"),
    ("suppressed", "seen = []\n\ndef f(x):\n    if x not in seen:  # ftmigrate: ignore[FT002]\n        seen.append(x)\n"),
    ("spacing", "seen = []\n\ndef f(x):\n    if(x)in(seen):\n        seen . append (x)\n"),
    ("get_spacing", "cache = {}\n\ndef f(k):\n    if cache .get (k) is None:\n        cache[k] = 1\n"),
    ("number_before_in", "seen = []\n\ndef f():\n    if 1in seen:\n        seen.remove(1)\n"),
    ("continued_line", "seen = []\n\ndef f(x):\n    if x not \\\n        in seen:\n        seen.append(x)\n"),
]

# Typical code without such a shape: (id, code). check() finds nothing in any of them.
NOT_REPORTED = [
    ("local", "def f(items):\n    seen = []\n    for x in items:\n        if x not in seen:\n            seen.append(x)\n"),
    ("parameter", "def f(seen, x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("test_only", "seen = []\n\ndef f(x):\n    if x in seen:\n        print(x)\n"),
    ("other_container", "seen = []\nother = []\n\ndef f(x):\n    if x not in seen:\n        other.append(x)\n"),
    ("module_level_if", "seen = []\nx = 1\nif x not in seen:\n    seen.append(x)\n"),
    ("class_body_if", "seen = []\n\nclass A:\n    if 1 not in seen:\n        seen.append(1)\n"),
    ("class_body_if_in_function", "seen = []\n\ndef f():\n    class A:\n        if 1 not in seen:\n            seen.append(1)\n"),
    ("change_in_nested_function", "seen = []\n\ndef f(x):\n    if x not in seen:\n        def g():\n            seen.append(x)\n        g()\n"),
    ("change_in_lambda", "seen = []\n\ndef f(x):\n    if x not in seen:\n        g = lambda: seen.append(x)\n"),
    ("literal_container", "seen = []\n\ndef f(x):\n    if x in ('a', 'b'):\n        seen.append(x)\n"),
    ("three_parts", "class A:\n    def f(self, x):\n        if x not in self.a.b:\n            self.a.b.append(x)\n"),
    ("call_container", "seen = []\n\ndef f(x):\n    if x not in g():\n        g().append(x)\n"),
    ("change_after_without_leaving", "seen = set()\n\ndef f(x):\n    if x in seen:\n        print(x)\n    seen.add(x)\n"),
    ("change_after_else", "seen = set()\n\ndef f(x):\n    if x in seen:\n        return\n    else:\n        print(x)\n    seen.add(x)\n"),
    ("change_in_earlier_branch", "seen = set()\n\ndef f(x, y):\n    if y:\n        seen.add(x)\n    elif x in seen:\n        print(x)\n"),
    ("not_a_mutator", "seen = []\n\ndef f(x):\n    if x not in seen:\n        seen.count(x)\n"),
    ("imported_name", "from m import seen\n\ndef f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("unknown_name", "def f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("function_name", "def seen():\n    pass\n\ndef f(x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("unknown_class_attribute", "class Plugin:\n    pass\n\ndef f(k):\n    if k in Plugin.registry:\n        Plugin.registry.pop(k)\n"),
    ("other_receiver", "class A:\n    def f(self, other, x):\n        if x not in other.items:\n            other.items.append(x)\n"),
    ("function_not_method", "def f(self, x):\n    if x not in self.items:\n        self.items.append(x)\n"),
    ("closure_called_in_place", "def load(data):\n    names = {}\n\n    def name(i):\n        if i not in names:\n            names[i] = data[i].decode()\n"
     "        return names[i]\n\n    return [name(i) for i in range(len(data))]\n"),
    ("no_if", "seen = []\n\ndef f(x):\n    seen.append(x)\n    return x in seen\n"),
]

# Names Python reads as others after NFKC normalisation (``ｓｅｅｎ`` is the parameter ``seen``,
# ``@ｓtaticmethod`` is ``staticmethod``): the ast, like Python, sees a parameter and a static
# method, so check() reports nothing (LibCST compared the names as written and reported
# them); candidate() still lets them through.
NORMALISED = [
    ("unicode_parameter", "seen = []\n\ndef f(\uff53\uff45\uff45\uff4e, x):\n    if x not in seen:\n        seen.append(x)\n"),
    ("unicode_staticmethod", "class A:\n    @\uff53taticmethod\n    def f(self, x):\n        if x not in self.a:\n            self.a.append(x)\n"),
]


def ids(table: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in table]


@pytest.mark.parametrize("code", [code for _, code in REPORTED], ids=ids(REPORTED))
def test_reported_shapes_pass_both_prefilters(code):
    assert sites(code), "the example must be one check() reports"
    assert RULE.prefilter(code)
    assert candidate(code)


@pytest.mark.parametrize("code", [code for _, code in NOT_REPORTED], ids=ids(NOT_REPORTED))
def test_other_code_is_no_candidate(code):
    assert not sites(code)
    assert not candidate(code)


@pytest.mark.parametrize("code", [code for _, code in NORMALISED], ids=ids(NORMALISED))
def test_names_are_read_as_python_reads_them(code):
    assert not sites(code)
    assert RULE.prefilter(code) and candidate(code)


def _fixtures_with_sites() -> list[Path]:
    return [p for p in sorted((TESTDATA / "FT002").glob("*.py")) if sites(decode_source(p, p.read_bytes()).text)]


def test_fixtures_with_sites_pass_both_prefilters():
    fixtures = _fixtures_with_sites()
    assert len(fixtures) >= 30
    for path in fixtures:
        text = decode_source(path, path.read_bytes()).text
        assert RULE.prefilter(text), path.name
        assert candidate(text), path.name


def test_fixtures_without_sites_are_no_candidates():
    for name in ("local_container.before.py", "local_container.after.py", "setdefault.after.py", "delete_to_pop.after.py"):
        path = TESTDATA / "FT002" / name
        text = decode_source(path, path.read_bytes()).text
        assert not sites(text) and not candidate(text), name


def test_rule_examples():
    for example in RULE.INVALID:
        assert sites(example.code) and RULE.prefilter(example.code) and candidate(example.code), example.code
    for code in RULE.VALID:
        if not sites(code):  # a valid example may still hold a site already under a lock
            assert not candidate(code), code


@pytest.mark.parametrize(
    "text",
    [
        "def f(a, b):\n    return [a, b, 'padding that makes the file big enough']\n",
        "x = 1\nprint(x)\n",
        "def main():\n    return join(x)\n",
    ],
)
def test_prefilter_rejects_text_without_a_test(text):
    assert not RULE.prefilter(text)


def test_prefilter_needs_a_change():
    assert not RULE.prefilter("def f(x):\n    return x in y\n")
    assert RULE.prefilter("def f(x):\n    return x in y[0]\n")
    assert RULE.prefilter("def f(x):\n    return x in y.add\n")


def test_prefilter_normalises_identifiers():
    assert RULE.prefilter("cache = {}\ndef f(k):\n    if cache.\uff47\uff45\uff54(k):\n        cache.pop(k)\n")
