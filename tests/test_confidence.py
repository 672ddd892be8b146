"""Confidence levels (ftmigrate/confidence.py): exact levels on hand-written cases, and the
CLI's --min-confidence / min-confidence filtering what is reported and what is fixed."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemods import select_rules
from ftmigrate.cli import app
from ftmigrate.engine import check_source
from ftmigrate.sourcefile import decode_source


def levels(code: str, path: str = "pkg/mod.py", min_confidence: str = "low") -> list[tuple[str, int, str]]:
    source = decode_source(Path(path), textwrap.dedent(code).encode())
    result = check_source(source, select_rules(None, []), fix=False, display=path, min_confidence=min_confidence)
    assert result.error is None, result.error
    return [(f.rule, f.line, f.confidence) for f in result.findings]


CASES = [
    pytest.param(
        """\
        count = 0

        def bump():
            global count
            count += 1
        """,
        [("FT001", 5, "medium")],
        id="library-global-counter",
    ),
    pytest.param(
        """\
        import threading
        count = 0

        def bump():
            global count
            count += 1

        def work():
            for _ in range(10):
                bump()

        threads = [threading.Thread(target=work) for _ in range(4)]
        """,
        [("FT001", 6, "high")],
        id="called-from-a-thread-target",
    ),
    pytest.param(
        """\
        from concurrent.futures import ThreadPoolExecutor
        seen = []

        def visit(x):
            if x not in seen:
                seen.append(x)

        def run(items):
            with ThreadPoolExecutor() as pool:
                pool.map(visit, items)
        """,
        [("FT002", 5, "high")],
        id="executor-task",
    ),
    pytest.param(
        """\
        def total(items):
            n = 0

            def add(x):
                nonlocal n
                n += x

            for item in items:
                add(item)
            return n
        """,
        [("FT001", 6, "low")],
        id="closure-that-never-leaves",
    ),
    pytest.param(
        """\
        def columns(expr, traverse):
            found = []

            def visit(col):
                if col not in found:
                    found.append(col)

            traverse(expr, {"column": visit})
            return found
        """,
        [("FT002", 5, "low")],
        id="closure-only-passed-to-a-call",
    ),
    pytest.param(
        """\
        def make_counter():
            n = 0

            def bump():
                nonlocal n
                n += 1
                return n

            return bump
        """,
        [("FT001", 6, "medium")],
        id="closure-returned",
    ),
    pytest.param(
        """\
        import threading

        def run():
            n = 0

            def bump():
                nonlocal n
                n += 1

            threading.Thread(target=bump).start()
        """,
        [("FT001", 8, "high")],
        id="closure-handed-to-a-thread",
    ),
    pytest.param(
        """\
        hits = 0

        async def handle(request):
            global hits
            hits += 1
        """,
        [("FT001", 5, "low")],
        id="async-without-await",
    ),
    pytest.param(
        """\
        hits = 0

        async def handle(request):
            global hits
            hits += await request.size()
        """,
        [("FT001", 5, "medium")],
        id="async-with-await",
    ),
    pytest.param(
        """\
        class Handler:
            def __init__(self):
                self.seen = set()

            def visit(self, x):
                if x not in self.seen:
                    self.seen.add(x)
        """,
        [("FT002", 6, "low")],
        id="instance-state-without-sharing-evidence",
    ),
    pytest.param(
        """\
        import threading

        class Worker(threading.Thread):
            def __init__(self):
                super().__init__()
                self.done = 0

            def run(self):
                self.done += 1

            def reset(self):
                self.done += 1
        """,
        [("FT004", 9, "high"), ("FT004", 12, "high")],
        id="thread-subclass",
    ),
    pytest.param(
        """\
        import threading
        counts = {}

        def bump():
            counts[threading.get_ident()] += 1
        """,
        [("FT004", 5, "low")],
        id="per-thread-key",
    ),
]


CASES += [
    pytest.param(
        """\
        import threading

        class Loader:
            _template_lock = threading.Lock()  # class-level: guards the class's templates

            def __init__(self):
                self.count = 0

            def load(self):
                self.count += 1
        """,
        [],  # FT004 reports instance state only with sharing evidence; a class-level lock is none
        id="class-level-lock-is-no-evidence-for-instances",
    ),
    pytest.param(
        """\
        import asyncio

        class Client:
            def __init__(self):
                self._lock = asyncio.Lock()
                self.count = 0

            def bump(self):
                self.count += 1
        """,
        [],  # FT004 reports instance state only with sharing evidence; an asyncio lock is none
        id="asyncio-lock-is-no-evidence",
    ),
    pytest.param(
        """\
        import threading

        class Pool:
            def __init__(self):
                self._lock = threading.Lock()
                self.count = 0

            def checkout(self):
                self.count += 1
        """,
        [("FT004", 9, "medium")],
        id="per-instance-threading-lock",
    ),
    pytest.param(
        """\
        import threading

        class Server:
            def __init__(self):
                self._lock = threading.Lock()
                self.count = 0

            def bump(self):
                self.count += 1

            async def serve(self):
                pass
        """,
        [("FT004", 9, "low")],
        id="class-with-async-methods",
    ),
    pytest.param(
        """\
        _codecs = {}

        def _register(name, codec):
            if name not in _codecs:
                _codecs[name] = codec

        _register("utf-8", object())
        """,
        [("FT002", 4, "low")],
        id="private-function-called-at-import-time",
    ),
    pytest.param(
        """\
        runs = 0

        def main():
            global runs
            runs += 1
        """,
        [("FT001", 5, "low")],
        id="command-line-main",
    ),
]


@pytest.mark.parametrize(("code", "expected"), CASES)
def test_levels(code, expected):
    assert levels(code) == expected


def test_test_code_is_low_unless_its_threads_run_it():
    code = "count = 0\n\ndef test_bump():\n    global count\n    count += 1\n"
    assert levels(code, path="tests/test_mod.py") == [("FT001", 5, "low")]
    assert levels(code, path="pkg/mod.py") == [("FT001", 5, "medium")]
    threaded = code + "\ndef test_threads():\n    import threading\n    threading.Thread(target=test_bump).start()\n"
    assert levels(threaded, path="tests/test_mod.py") == [("FT001", 5, "high")]
    unreached = threaded.replace("target=test_bump", "target=print")
    assert levels(unreached, path="tests/test_mod.py") == [("FT001", 5, "low")]


def test_min_confidence_drops_lower_findings():
    code = CASES[3].values[0]  # a closure that never leaves: low
    assert levels(code, min_confidence="medium") == []
    assert levels(code, min_confidence="low") == [("FT001", 6, "low")]


LOW_AND_MEDIUM = textwrap.dedent(
    """\
    count = 0


    def bump():
        global count
        count += 1


    def total(items):
        n = 0

        def add(x):
            nonlocal n
            n += x

        for item in items:
            add(item)
        return n
    """
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "mod.py").write_text(LOW_AND_MEDIUM)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, [*args, "--no-cache"])


def test_scan_hides_low_by_default_and_shows_it_when_asked(project):
    default = run("scan", ".")
    assert default.exit_code == 1
    assert default.stdout.splitlines() == [
        "mod.py:6:5: FT001 [*] `count` (module state) is read, modified and written without a lock; "
        "concurrent threads lose updates [confidence: medium]",
        "Found 1 finding in 1 file (1 fixable with `ftmigrate apply`).",
    ]
    everything = run("scan", ".", "--min-confidence", "low", "--format", "json")
    found = json.loads(everything.stdout)["findings"]
    assert [(f["line"], f["confidence"]) for f in found] == [(6, "medium"), (14, "low")]
    assert found[1]["confidence_reason"] == "the closure never leaves `total()`: only one call can run it"


def test_apply_changes_only_what_the_run_reports(project):
    result = run("apply", ".")
    assert result.exit_code == 0, result.output
    text = (project / "mod.py").read_text()
    assert "with _count_lock:\n        count += 1" in text
    assert "    def add(x):\n        nonlocal n\n        n += x\n" in text  # low: left alone


def test_config_sets_the_level_and_the_option_overrides_it(project):
    (project / "pyproject.toml").write_text('[tool.ftmigrate]\nmin-confidence = "high"\n')
    assert run("scan", ".").stdout.splitlines() == ["All checks passed: no findings in 1 file."]
    assert run("scan", ".", "--min-confidence", "medium").exit_code == 1


def test_a_bad_level_in_the_config_is_a_usage_error(project):
    (project / "pyproject.toml").write_text('[tool.ftmigrate]\nmin-confidence = "certain"\n')
    result = run("scan", ".")
    assert result.exit_code == 2
    assert "min-confidence must be one of low, medium, high" in result.stderr
