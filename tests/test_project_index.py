"""Project-wide thread evidence (ftmigrate/project_index.py): exact reached functions across
modules, and findings in them graded `high` by scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from ftmigrate.project_index import ProjectIndex, file_facts, module_name
from tests.helpers import write_tree

FILES = {
    "pkg/__init__.py": "",
    "pkg/stats.py": """\
        count = 0
        seen = []

        def record():
            global count
            count += 1

        def remember(x):
            if x not in seen:
                seen.append(x)

        def unused():
            global count
            count += 1
        """,
    "pkg/worker.py": """\
        from concurrent.futures import ThreadPoolExecutor
        from .stats import record
        import pkg.stats as st

        def place(item):
            record()
            helper(item)

        def helper(item):
            st.remember(item)

        def serve(items):
            list(map(len, items))  # the builtin map starts no thread
            with ThreadPoolExecutor() as pool:
                pool.map(place, items)
        """,
    "pkg/server.py": """\
        import socketserver
        import threading
        from pkg import stats

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.reply()

            def reply(self):
                stats.unused()

        class Poller(threading.Thread):
            def run(self):
                poll()

        def poll():
            pass
        """,
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return write_tree(tmp_path, FILES)


def test_module_names_follow_packages(project):
    assert module_name(project / "pkg" / "stats.py") == "pkg.stats"
    assert module_name(project / "pkg" / "__init__.py") == "pkg"


def test_reached_functions_across_modules(project):
    paths = [project / name for name in FILES]
    index = ProjectIndex((str(p), file_facts(p, p.read_text())) for p in paths)
    reached = {Path(path).relative_to(project).as_posix(): funcs for path, funcs in index.reached().items()}
    assert reached == {
        "pkg/worker.py": {
            "place": "`place()` is handed to `pool.map()` in pkg.worker.serve()",
            "helper": "called from `pkg.worker.place()`, which threads run",
        },
        "pkg/stats.py": {
            "record": "called from `pkg.worker.place()`, which threads run",
            "remember": "called from `pkg.worker.helper()`, which threads run",
            "unused": "called from `pkg.server.Handler.reply()`, which threads run",
        },
        "pkg/server.py": {
            "Handler.handle": "`Handler.handle()` is a request handler that threading servers run per request in pkg.server",
            "Handler.reply": "called from `pkg.server.Handler.handle()`, which threads run",
            "Poller.run": "`Poller.run()` is the run() of a threading.Thread subclass in pkg.server",
            "poll": "called from `pkg.server.Poller.run()`, which threads run",
        },
    }


def test_scan_grades_findings_in_reached_functions_high(project):
    result = CliRunner().invoke(app, ["scan", ".", "--format", "json", "--no-cache"])
    found = {(f["path"], f["line"]): (f["confidence"], f["confidence_reason"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {
        ("pkg/stats.py", 6): ("high", "threads run it: called from `pkg.worker.place()`, which threads run"),
        ("pkg/stats.py", 9): ("high", "threads run it: called from `pkg.worker.helper()`, which threads run"),
        ("pkg/stats.py", 14): ("high", "threads run it: called from `pkg.server.Handler.reply()`, which threads run"),
    }


def test_corrupt_index_entries_are_recomputed(project):
    before = CliRunner().invoke(app, ["scan", ".", "--format", "json"]).stdout
    index_entries = [p for p in (project / ".ftmigrate_cache" / "index").rglob("*") if p.is_file()]
    assert len(index_entries) == len(FILES)
    for entry in index_entries:
        entry.write_text('{"functions": "not a list"}')
    (project / "pkg" / "stats.py").write_text((project / "pkg" / "stats.py").read_text() + "\n")  # new results
    after = CliRunner().invoke(app, ["scan", ".", "--format", "json"]).stdout
    assert [f["confidence"] for f in json.loads(after)["findings"]] == ["high", "high", "high"]
    assert json.loads(before)["findings"] == json.loads(after)["findings"]


def test_a_linked_index_folder_is_never_written_through(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (project / ".ftmigrate_cache").mkdir()
    (project / ".ftmigrate_cache" / "index").symlink_to(outside, target_is_directory=True)
    result = CliRunner().invoke(app, ["scan", ".", "--format", "json"])
    assert [f["confidence"] for f in json.loads(result.stdout)["findings"]] == ["high", "high", "high"]
    assert list(outside.iterdir()) == []


def test_modules_that_re_export_from_each_other_end_the_chase(tmp_path):
    """`a` imports `work` from `b` and `b` from `a` (as some standard-library compat modules
    do): resolving a thread target through them stops instead of recursing forever."""
    (tmp_path / "a.py").write_text("from b import work\n")
    (tmp_path / "b.py").write_text("from a import work\n")
    (tmp_path / "main.py").write_text("import threading\nfrom a import work\n\nthreading.Thread(target=work).start()\n")
    paths = [tmp_path / name for name in ("a.py", "b.py", "main.py")]
    index = ProjectIndex((str(p), file_facts(p, p.read_text())) for p in paths)
    assert index.reached() == {}
