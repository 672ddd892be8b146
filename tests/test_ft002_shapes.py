"""FT002 where LibCST's tree and the ``ast`` differ in shape: a line of ``a; b; c``
statements (one LibCST line, three ast statements), ``else: if`` against ``elif`` (the same
ast), a test or key in parentheses of its own (LibCST keeps them on the node, ast drops
them), a class body on its header's line and an import sharing its line with an assignment.

The expected texts are what ``ftmigrate apply`` made of them when the rules detected on
LibCST, before the ast port (issue 15): the port changed none of them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app

LINES = '''
seen = set()


def f(x):
    if x in seen:
        return
    print(x); seen.add(x); print(2)
    return sorted(seen)


def g(x, y):
    if y:
        pass
    else:
        if x in seen:
            seen.discard(x)
'''

LINES_FIXED = '''
import threading

seen = set()
_seen_lock = threading.RLock()


def f(x):
    with _seen_lock:
        if x in seen:
            return
        print(x); seen.add(x); print(2)
        return sorted(seen)


def g(x, y):
    if y:
        pass
    else:
        with _seen_lock:
            if x in seen:
                seen.discard(x)
'''

PARENTHESES = '''
d1 = {}
d2 = {}
d3 = {}
d4 = {}


def f(k):
    if (k in d1):
        del d1[k]


def g(k):
    if (k) in d2:
        del d2[k]


def h(k):
    if k in d3:
        del d3[(k)]


def i(k):
    if k in d4:  # kept
        del d4[k]
'''

PARENTHESES_FIXED = '''
import threading

d1 = {}
_d1_lock = threading.Lock()
d2 = {}
_d2_lock = threading.Lock()
d3 = {}
_d3_lock = threading.Lock()
d4 = {}


def f(k):
    with _d1_lock:
        if (k in d1):
            del d1[k]


def g(k):
    with _d2_lock:
        if (k) in d2:
            del d2[k]


def h(k):
    with _d3_lock:
        if k in d3:
            del d3[(k)]


def i(k):
    d4.pop(k, None)  # kept
'''

# Neither is shared state FT002 places a lock for: LibCST's rule skipped a module line
# holding an import, and did not look into a class body written on the header's line.
NOT_PLACED = '''
import os; seen = []


class A: registry = {}


def f(x):
    if x not in seen:
        seen.append(x)


def g(k):
    if k in A.registry:
        A.registry.pop(k)
'''


def _run(tmp_path: Path, code: str, *args: str) -> tuple[str, str]:
    module = tmp_path / "example.py"
    module.write_text(textwrap.dedent(code).lstrip(), encoding="utf-8")
    result = CliRunner().invoke(
        app, [*args, "--select", "FT002", "--min-confidence", "low", "--no-cache", str(module)], catch_exceptions=False
    )
    return result.output, module.read_text(encoding="utf-8")


def _findings(tmp_path: Path, code: str) -> list[tuple]:
    output, _ = _run(tmp_path, code, "scan", "--format", "json")
    return [
        (f["line"], f["column"], f["end_line"], f["end_column"], f["fixable"], f["fix_safety"])
        for f in json.loads(output)["findings"]
    ]


@pytest.mark.parametrize(
    ("code", "fixed", "findings"),
    [
        (LINES, LINES_FIXED, [(5, 5, 6, 15, True, "unsafe"), (15, 9, 16, 28, True, "safe")]),
        (
            PARENTHESES,
            PARENTHESES_FIXED,
            [(8, 5, 9, 18, True, "safe"), (13, 5, 14, 18, True, "safe"), (18, 5, 19, 20, True, "safe"), (23, 5, 24, 18, True, "safe")],
        ),
    ],
    ids=["lines", "parentheses"],
)
def test_reported_and_fixed_as_on_libcst(tmp_path: Path, code: str, fixed: str, findings: list):
    assert _findings(tmp_path, code) == findings
    _, written = _run(tmp_path, code, "apply", "--unsafe-fixes")
    assert written == textwrap.dedent(fixed).lstrip()


def test_state_it_cannot_place_is_not_reported(tmp_path: Path):
    assert _findings(tmp_path, NOT_PLACED) == []
