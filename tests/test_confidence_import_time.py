"""Code that runs only while modules are imported, and functions documented as not
thread-safe: graded low by `scan` over a whole project (ftmigrate/project_index.py finds the
import-time-only private functions across modules; ftmigrate/confidence.py grades)."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.helpers import write_tree

FILES = {
    "pkg/__init__.py": "",
    # sqlalchemy/inspection.py: private registration decorators
    "pkg/inspection.py": """\
        _registrars = {}
        _handlers = {}
        _seen = []

        def _inspects(*types):
            def decorate(fn_or_cls):
                for type_ in types:
                    if type_ in _registrars:
                        raise AssertionError(type_)
                    _registrars[type_] = fn_or_cls
                return fn_or_cls

            return decorate

        def _self_inspects(cls):
            if cls in _registrars:
                raise AssertionError(cls)
            _registrars[cls] = True
            return cls

        def _on(name, fn):
            if name not in _handlers:
                _handlers[name] = fn

        def _remember(x):
            if x not in _seen:
                _seen.append(x)

        def register(name, fn):
            if name not in _handlers:
                _handlers[name] = fn
        """,
    "pkg/models.py": """\
        from pkg import inspection
        from pkg.inspection import _on, _remember, register

        @inspection._self_inspects
        class Mapper:
            pass

        class Query:
            pass

        inspection._inspects(Query)(lambda q: q)
        register("query", Query)
        on_load = lambda: _on("load", Query)

        def load(x):
            _remember(x)
        """,
}
LOW_IMPORT = "runs only while modules are imported (module-level code, class bodies, decorators), in one thread"
ANY_THREAD = "shared state changed by code that any thread may call"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return write_tree(tmp_path, FILES)


def graded() -> dict[tuple[str, int], tuple[str, str]]:
    result = CliRunner().invoke(app, ["scan", ".", "--format", "json", "--no-cache", "--min-confidence", "low"])
    assert result.exit_code == 1, result.output
    return {(f["path"], f["line"]): (f["confidence"], f["confidence_reason"]) for f in json.loads(result.stdout)["findings"]}


def test_private_functions_called_only_at_import_time_are_low(project):
    assert graded() == {
        ("pkg/inspection.py", 8): ("low", f"`decorate()` is what `@_inspects(...)` returns: it {LOW_IMPORT}"),
        ("pkg/inspection.py", 16): ("low", f"`_self_inspects()` {LOW_IMPORT}"),
        # kept in a lambda that runs later: not import time
        ("pkg/inspection.py", 22): ("medium", ANY_THREAD),
        # called from a function: any thread may call it
        ("pkg/inspection.py", 26): ("medium", ANY_THREAD),
        # public: user code may call it from any thread
        ("pkg/inspection.py", 30): ("medium", ANY_THREAD),
    }


def test_a_runtime_use_anywhere_in_the_project_keeps_it_medium(project):
    models = project / "pkg" / "models.py"
    models.write_text(models.read_text() + "\n\ndef late(cls):\n    return inspection._self_inspects(cls)\n")
    assert graded()[("pkg/inspection.py", 16)] == ("medium", ANY_THREAD)


def test_runtime_uses_in_test_code_do_not_count(project):
    (project / "tests").mkdir()
    (project / "tests" / "test_inspection.py").write_text(
        "from pkg import inspection\n\n\ndef test_register():\n    inspection._self_inspects(object)\n"
    )
    assert graded()[("pkg/inspection.py", 16)] == ("low", f"`_self_inspects()` {LOW_IMPORT}")


def test_a_factory_whose_result_is_kept_is_not_import_time(project):
    models = project / "pkg" / "models.py"
    models.write_text(models.read_text().replace("inspection._inspects(Query)(lambda q: q)", "later = inspection._inspects(Query)"))
    assert graded()[("pkg/inspection.py", 8)] == ("medium", ANY_THREAD)


def test_a_docstring_saying_not_thread_safe_is_low(tmp_path, monkeypatch):
    # django/core/serializers/__init__.py unregister_serializer
    (tmp_path / "serializers.py").write_text(textwrap.dedent('''\
        _serializers = {}

        def unregister_serializer(format):
            "Unregister a given serializer. This is not a thread-safe operation."
            if format in _serializers:
                del _serializers[format]

        def register_serializer(format, module):
            "Register a new serializer; thread-safe callers only."
            if format not in _serializers:
                _serializers[format] = module
        '''))
    monkeypatch.chdir(tmp_path)
    assert graded() == {
        ("serializers.py", 5): (
            "low", "`unregister_serializer()` documents that it is not thread-safe: callers must not share it between threads"
        ),
        ("serializers.py", 10): ("medium", ANY_THREAD),
    }
