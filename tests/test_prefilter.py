"""Prefilter building blocks, and FT001's prefilter on the unusual ways Python allows."""

from __future__ import annotations

import ast

import pytest

from codemods.ft001_global_rmw import GlobalReadModifyWrite
from ftmigrate.prefilter import declared_names, identifier_text, logical_rest, statements
from tests.helpers import check_text


def test_identifier_text_normalises_like_python():
    assert identifier_text("x = 1") == "x = 1"
    assert identifier_text("ﬁle = 1  # café") == "file = 1  # café"  # NFKC: the ligature is "fi"
    assert identifier_text("cafe\u0301 = 1") == "caf\u00e9 = 1"  # composes into a word character
    assert identifier_text("x\u0301 = 1") is None  # a combining mark left over is no \\w
    assert identifier_text("a\u203fb = 1") is None  # U+203F joins identifiers but is no \\w


def test_declared_names():
    text = "def f():\n    global a, b\n    nonlocal \\\n  c\n# global variable d\n"
    assert declared_names(text) == {"a", "b", "c", "variable"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("= x + 1\ny = 2\n", "x + 1"),
        ("= (x +\n  1)  # (\nz = 3\n", "(x + 1)"),
        ("= x + \\\n 1\n", "x + \\ 1"),
        ("= 'a(' + x  # )\n", "+ x"),
        ('= """a\nb""" + x\n', None),
        ("= 'a\\\nb' + x\n", None),
    ],
)
def test_logical_rest(text, expected):
    rest = logical_rest(text, 1)
    assert (rest if rest is None else " ".join(rest.split())) == expected


def test_statements_reach_every_block():
    tree = ast.parse(
        "try:\n    a = 1\nexcept E:\n    b = 2\nelse:\n    c = 3\nfinally:\n    d = 4\n"
        "match x:\n    case 1:\n        e = 5\nfor i in y:\n    pass\nelse:\n    f = 6\n"
        "def g():\n    class C:\n        h = 7\n"
    )
    names = [s.targets[0].id for s in statements(tree) if isinstance(s, ast.Assign)]
    assert names == ["a", "b", "c", "d", "e", "f", "h"]


FOUND_ANYWAY = [
    "n = 0\ndef f():\n    global n\n    (n) += 1\n",
    "n = 0\ndef f():\n    global n\n    (n  # why not\n     ) += 1\n",
    "n = 0\ndef f():\n    global n\n    n \\\n        += 1\n",
    "n = 0\ndef f():\n    global \\\n        n\n    n = (1 +\n         n)\n",
    "n = 0\ndef f():\n    global n\n    n = 'text(' + n  # )\n",
    "n = 0\ndef f():\n    global n\n    n = '''\n''' + n\n",
    "ﬁle = 0\ndef f():\n    global ﬁle\n    ﬁle += 1\n",
    "def f():\n    x = 0\n    def g():\n        nonlocal x; x = x * 2\n    return g\n",
]


@pytest.mark.parametrize("code", FOUND_ANYWAY)
def test_ft001_prefilters_pass_every_file_with_a_finding(code):
    rule = GlobalReadModifyWrite()
    assert check_text(code, fix=False, select=["FT001"]).findings, "the case must really be a finding"
    assert rule.prefilter(code) and rule.candidate(ast.parse(code))


@pytest.mark.parametrize(
    "code",
    [
        "def f():\n    global n\n    n = 1\n",
        "def f():\n    global n\n    n = compute(n)\n",
        "def f():\n    global n\n    n = m + 1\n",
        "# the global state n += 1 is documented elsewhere\nx = 1\n",
        "def f():\n    global n\n    return n + 1\n",
    ],
)
def test_ft001_text_prefilter_rejects_files_that_cannot_have_a_finding(code):
    assert not GlobalReadModifyWrite().prefilter(code)
    assert not check_text(code, fix=False, select=["FT001"]).findings
