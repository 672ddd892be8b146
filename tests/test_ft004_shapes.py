"""FT004 where LibCST's tree and the ``ast`` differ in shape: an expression in parentheses of
its own (LibCST keeps them on the node and compares them, ast drops them), the same item spelled
with other quotes or spacing, ``*args``/``name=`` arguments (LibCST lists them in source order),
a name bound by ``except ... as`` (a LibCST ``Name``, an ast handler) and a ``Condition`` built
on a lock given by keyword.

The expected findings are what ``ftmigrate scan`` reported when the rules detected on LibCST,
before the ast port (issue 15): the port changed none of them."""

from __future__ import annotations

import pytest

from tests.helpers import check_text

CASES = {
    "spelling": '''stats = {}


def f(k):
    stats['x'] = stats["x"] + 1
    stats[k] = (stats[k]) + 1
    stats[k] = stats [k] + 1
    stats[k] = (stats[k] + 1)
    (stats[k]) += 1
''',
    "get": '''counts = {}


def f(k, n):
    counts[k] = counts.get(k=k) + 1
    counts[k] = counts.get(*k) + 1
    counts[(k, n)] = counts.get((k, n), 0) + 1
    counts[k, n] = counts.get((k, n), 0) + 1
''',
    "class of self": '''class C:
    total = 0

    def f(self, x):
        type(*self).total += 1
        type(self, x=1).total += 1
        (self).__class__.total -= 1
''',
    "except binding": '''failures = {}
try:
    import fast
except ImportError as failures:
    pass


def f(k):
    failures[k] += 1
''',
    "condition on the lock": '''import threading


class Pool:
    def __init__(self):
        self._lock = threading.Lock()
        self.ready = threading.Condition(lock=self._lock)
        self._other = threading.Lock()

    def put(self):
        with self.ready:
            self.size += 1

    def take(self):
        with self._lock:
            self.size -= 1

    def drop(self):
        with self._other:
            self.size -= 1
''',
}

EXPECTED = {
    'spelling': [
        ('FT004', 8, 5, 8, 30, '`stats[k]` (item of module-level `stats`) is read, modified and written without a lock; concurrent threads lose updates', True),
        ('FT004', 9, 5, 9, 20, '`(stats[k])` (item of module-level `stats`) is read, modified and written without a lock; concurrent threads lose updates', True),
    ],
    'get': [
        ('FT004', 6, 5, 6, 35, '`counts[k]` (item of module-level `counts`) is read, modified and written without a lock; concurrent threads lose updates', True),
        ('FT004', 7, 5, 7, 47, '`counts[(k, n)]` (item of module-level `counts`) is read, modified and written without a lock; concurrent threads lose updates', True),
    ],
    'class of self': [
        ('FT004', 5, 9, 5, 31, '`type(*self).total` (class attribute of `C`) is read, modified and written without a lock; concurrent threads lose updates', True),
        ('FT004', 7, 9, 7, 36, '`(self).__class__.total` (class attribute of `C`) is read, modified and written without a lock; concurrent threads lose updates', True),
    ],
    'except binding': [
        ('FT004', 9, 5, 9, 21, '`failures[k]` (item of module-level `failures`) is read, modified and written without a lock; concurrent threads lose updates', True),
    ],
    'condition on the lock': [
        ('FT004', 20, 13, 20, 27, '`self.size` (attribute of `Pool` instances, which are shared between threads: its instances have a thread lock attribute) is read, modified and written under `self._other`, but other updates of it hold `self.ready`: the locks do not exclude each other, and concurrent threads lose updates', False),
    ],
}


@pytest.mark.parametrize("name", CASES)
def test_findings_as_on_libcst(name):
    """(rule, line, column, end line, end column, message, fixable) of each FT004 finding."""
    result = check_text(CASES[name], fix=False)
    assert result.error is None, result.error
    found = [(f.rule, f.line, f.column, f.end_line, f.end_column, f.message, f.fixable) for f in result.findings if f.rule == "FT004"]
    assert found == EXPECTED[name]
