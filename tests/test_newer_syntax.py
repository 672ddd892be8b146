"""Code written for a newer Python than the one running ftmigrate (issue 15, item 7).

On Python 3.11, ``type Alias = int`` and ``def f[T](x: T)`` are syntax errors for ``ast``
although they are valid 3.12 code. The rules detect on ``ast``, so such a file cannot be
analysed here: its error says which Python to run instead (LibCST's parser, which knows the
newer grammar, tells which), never "syntax error". On 3.12 and later the same file is fixed
as usual.
"""

from __future__ import annotations

import sys
import textwrap

import libcst as cst
import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from ftmigrate.newsyntax import needed_python

OLDER_HOST = pytest.mark.skipif(sys.version_info >= (3, 12), reason="this host compiles 3.12 syntax: see the next test")

PEP695 = textwrap.dedent(
    """\
    type Alias = int
    counter = 0


    def bump[T](x: T) -> T:
        global counter
        counter += 1
        return x
    """
)

@pytest.mark.parametrize(
    ("code", "running", "expected"),
    [
        pytest.param("def f[T](x: T): pass\n", (3, 11), ((3, 12), "type parameters"), id="type-params-on-3.11"),
        pytest.param("type A = int\n", (3, 11), ((3, 12), "type aliases"), id="type-alias-on-3.11"),
        pytest.param("type A = int\n", (3, 12), None, id="type-alias-on-3.12"),
        pytest.param("try:\n    pass\nexcept* ValueError:\n    pass\n", (3, 10), ((3, 11), "except*"), id="except-star-on-3.10"),
        pytest.param("x = 1\n", (3, 10), None, id="plain"),
    ],
)
def test_needed_python(code, running, expected):
    assert needed_python(cst.parse_module(code), running) == expected


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "mod.py").write_text(PEP695)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@OLDER_HOST
@pytest.mark.parametrize("command", ["scan", "apply"])
def test_on_an_older_python_the_error_says_which_python_analyses_it(project, command):
    result = CliRunner().invoke(app, [command, "--no-cache", "."])
    here = "%d.%d" % sys.version_info[:2]
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: mod.py: the file uses Python 3.12 syntax (type aliases); this is Python {here}, which cannot"
        " analyse it: run ftmigrate with Python >= 3.12 to check it"
    ]
    assert "syntax error" not in result.output
    assert (project / "mod.py").read_text() == PEP695


@pytest.mark.skipif(sys.version_info < (3, 12), reason="needs a host that compiles 3.12 syntax")
def test_apply_on_a_new_enough_python_fixes_it(project):
    result = CliRunner().invoke(app, ["apply", "--no-cache", "."])
    assert result.exit_code == 0, result.output
    assert "with _counter_lock:\n        counter += 1" in (project / "mod.py").read_text()


def test_a_real_syntax_error_stays_one(project):
    (project / "mod.py").write_text("counter = 0\n\ndef bump(:\n    global counter\n    counter += 1\n")
    result = CliRunner().invoke(app, ["scan", "--no-cache", "."])
    assert result.exit_code == 1
    assert "error: mod.py: syntax error: invalid syntax (line 3, column 10)" in result.stderr


def test_a_tree_libcst_would_not_validate_is_read_without_building_nodes(monkeypatch):
    """The tree of a rejected file is parsed without validation, and may hold nodes LibCST's
    validation refuses (sqlalchemy 2.1.9's Python 3.14 t-string tests did: the scan said
    "internal error: CSTLogicError"). Reading it must not rebuild (so validate) any node."""
    from ftmigrate.parsing import parse_cst

    module = parse_cst("type A = int\n")

    def refuse(self):
        raise cst.CSTLogicError("Logic error!")

    monkeypatch.setattr(cst.TypeAlias, "_validate", refuse)
    assert needed_python(module, (3, 11)) == ((3, 12), "type aliases")
