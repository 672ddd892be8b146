"""The results cache: hits equal misses, stale or broken entries are never used, git ignores it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemods import select_rules
from ftmigrate import firstpass, runner
from ftmigrate.cache import CACHE_DIR, Cache
from ftmigrate.cli import app
from ftmigrate.config import Config
from ftmigrate.runner import APPLY, SCAN, run
from tests.conftest import REPO
from tests.test_cli import AWAITS, CLEAN, RACY
from tests.test_cli import project as cli_project  # noqa: F401 (a fixture)


@pytest.fixture
def project(cli_project: Path) -> Path:
    """The CLI tests' project (racy.py, clean.py) plus an unfixable finding and a syntax error."""
    (cli_project / "pkg" / "aio.py").write_text(AWAITS)
    (cli_project / "pkg" / "broken.py").write_text("def f(:\n    global n\n    n += 1\n")
    return cli_project


def scan(project: Path, **options):
    return run([project / "pkg"], select_rules(None, []), Config(root=project), SCAN, cache=True, **options)


def summary(report) -> list[tuple]:
    return [(r.path.name, r.error, r.checked, [(f.rule, f.line, f.column, f.message, f.fixable) for f in r.findings]) for r in report.results]


def entries(project: Path) -> list[Path]:
    return sorted(p for p in (project / CACHE_DIR).rglob("*") if p.is_file() and p.parent.parent.parent.name == CACHE_DIR)


def forbid_checking(monkeypatch):
    def no_checking(work, *args, **kwargs):
        assert not work, f"checked {[str(p) for p, _ in work]} although cached"
        return iter(())

    monkeypatch.setattr(runner, "check_files_parallel", no_checking)


def test_hit_equals_miss_and_needs_no_checking(project, monkeypatch):
    cold = scan(project)
    assert len(entries(project)) == 4  # findings, an unfixable one, a syntax error, nothing
    forbid_checking(monkeypatch)
    warm = scan(project)
    assert summary(warm) == summary(cold)
    assert [f.rule for f in warm.findings] == ["FT001", "FT001"]
    assert warm.files_checked == cold.files_checked == 4


def test_a_warm_run_reads_each_file_once(project, monkeypatch):
    """The project index and the results cache share one read (and one key) per file."""
    cold = scan(project)
    reads: list[str] = []
    real_read = firstpass.read_bytes

    def counting_read(path):
        reads.append(Path(path).name)
        return real_read(path)

    monkeypatch.setattr(firstpass, "read_bytes", counting_read)
    monkeypatch.setattr(runner, "read_bytes", counting_read)
    forbid_checking(monkeypatch)
    warm = scan(project)
    assert summary(warm) == summary(cold)
    assert sorted(reads) == ["aio.py", "broken.py", "clean.py", "racy.py"]


def test_a_cold_run_checks_only_files_some_rule_may_find_something_in(project, monkeypatch):
    """A file whose one ``ast`` parse (shared with the project index) satisfies no rule's
    necessary condition gets its empty result without a second parse."""
    (project / "pkg" / "plain.py").write_text("def f(x):\n    return x + 1\n")
    checked: list[str] = []
    real_check = runner.check_files_parallel

    def recording(work, *args, **kwargs):
        checked.extend(Path(p).name for p, *_ in work)
        return real_check(work, *args, **kwargs)

    monkeypatch.setattr(runner, "check_files_parallel", recording)
    report = scan(project)
    assert sorted(checked) == ["aio.py", "broken.py", "racy.py"]  # not clean.py, not plain.py
    by_name = {r.path.name: (r.checked, r.error, len(r.findings)) for r in report.results}
    assert by_name["plain.py"] == (True, None, 0) and by_name["clean.py"] == (True, None, 0)
    assert by_name["racy.py"] == by_name["aio.py"] == (True, None, 1)
    assert by_name["broken.py"][1].startswith("syntax error")


def test_a_changed_file_is_checked_again(project, monkeypatch):
    scan(project)
    (project / "pkg" / "clean.py").write_text(CLEAN + "\n\ndef bump():\n    global counter\n    counter = counter + 1\n")
    (project / "pkg" / "racy.py").write_text(CLEAN)
    report = scan(project)
    assert [(r.path.name, [f.line for f in r.findings]) for r in report.results if r.findings] == [
        ("aio.py", [6]),
        ("clean.py", [7]),
    ]


def test_same_bytes_elsewhere_or_other_settings_do_not_share_entries(project):
    scan(project)
    (project / "pkg" / "copy.py").write_text(RACY)
    assert len(scan(project).findings) == 3
    other = run([project / "pkg"], select_rules(None, []), Config(root=project, shared_classes=["C"]), SCAN, cache=True)
    assert len(other.findings) == 3
    assert len({p.parent.parent for p in entries(project)}) == 2  # one folder per settings


def test_corrupt_or_foreign_entries_are_ignored(project):
    cold = scan(project)
    garbage = [b"", b"{not json", b'{"checked": true}', json.dumps({"checked": 1, "error": None, "findings": []}).encode()]
    for entry, data in zip(entries(project), garbage):
        entry.write_bytes(data)
    assert summary(scan(project)) == summary(cold)
    wrong_type = json.dumps({"checked": True, "error": None, "findings": [["FT001", "6", 5, 6, 17, "m", True, None]]})
    for entry in entries(project):
        entry.write_text(wrong_type)
    assert summary(scan(project)) == summary(cold)


def test_apply_rewrites_a_file_whose_scan_is_cached(project):
    scan(project)  # caches racy.py's fixable finding
    report = run([project / "pkg"], select_rules(None, []), Config(root=project), APPLY, cache=True)
    assert [r.path.name for r in report.changed] == ["racy.py"]
    assert "with _counter_lock:" in (project / "pkg" / "racy.py").read_text()
    again = run([project / "pkg"], select_rules(None, []), Config(root=project), APPLY, cache=True)
    assert again.changed == [] and len(again.findings) == 1  # aio.py's unfixable one


def test_cache_folder_is_ignored_by_git(project):
    scan(project)
    assert (project / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project, capture_output=True, text=True, check=True)
    assert CACHE_DIR not in status.stdout and "pkg/racy.py" in status.stdout


def test_entries_are_written_atomically_and_an_unusable_cache_costs_nothing(project):
    report = scan(project)
    assert entries(project) and not list((project / CACHE_DIR).rglob("*.tmp"))
    unusable = Cache(project / "pkg" / "racy.py", ["a file is no folder"])
    key = unusable.key(project / "pkg" / "racy.py", RACY.encode())
    unusable.store(key, report.results[-1])  # no exception: the run just goes uncached
    assert unusable.load(key, project / "pkg" / "racy.py", "pkg/racy.py") is None


def test_cli_no_cache_writes_nothing_and_prints_the_same(project):
    first = CliRunner().invoke(app, ["scan", "--no-cache"])
    assert not (project / CACHE_DIR).exists()
    cold = CliRunner().invoke(app, ["scan"])
    warm = CliRunner().invoke(app, ["scan", "--jobs", "1"])
    assert (project / CACHE_DIR).is_dir()
    assert first.stdout == cold.stdout == warm.stdout and first.exit_code == cold.exit_code == warm.exit_code == 1
    assert first.stdout.splitlines()[-1] == "Found 2 findings in 4 files (1 fixable with `ftmigrate apply`), 1 error."


def test_warm_cli_scan_does_not_import_libcst(project):
    """A re-scan answered from the cache starts without LibCST (and the rules)."""
    script = textwrap.dedent(
        """
        import sys
        sys.argv = ["ftmigrate", "scan"]
        from ftmigrate.cli import main
        try:
            main()
        except SystemExit as exc:
            print(exc.code, "libcst" in sys.modules, "codemods" in sys.modules)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [subprocess.run([sys.executable, "-c", script], cwd=project, env=env, capture_output=True, text=True) for _ in range(2)]
    assert [r.stdout.splitlines()[-1] for r in runs] == ["1 True True", "1 False False"]

