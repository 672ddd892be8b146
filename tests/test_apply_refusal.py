"""apply's last line of defence, end to end: when the planned rewrite is not the input plus
lock code, the file is left byte for byte as it was, the run says why and goes on, and the
exit code says something was left undone.

The planner is made to return a broken rewrite (a statement dropped, an operator changed, a
statement that does not compile) by wrapping the engine's ``apply_fixes`` for files that
contain ``total``; ``other.py`` in the same run is rewritten normally."""

from __future__ import annotations

import json
from pathlib import Path

import libcst as cst
import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
import ftmigrate.engine

STATS = "counter = 0\ntotal = 0\n\n\ndef record(n):\n    global counter, total\n    counter += 1\n    total += n\n"
OTHER = "hits = 0\n\n\ndef hit():\n    global hits\n    hits += 1\n"
OTHER_FIXED = (
    "import threading\n\nhits = 0\n_hits_lock = threading.Lock()\n\n\n"
    "def hit():\n    global hits\n    with _hits_lock:\n        hits += 1\n"
)
COUNTER = "`counter` (module state) is read, modified and written without a lock; concurrent threads lose updates"
TOTAL = COUNTER.replace("`counter`", "`total`")
DIFFERS = "the rewritten code differs from the input beyond the inserted lock code"

BREAKS = {
    "statement dropped": (lambda code: code.replace("        total += n\n", ""), DIFFERS),
    "operator changed": (lambda code: code.replace("counter += 1", "counter -= 1"), DIFFERS),
    "does not compile": (
        lambda code: code + "\nreturn counter\n",
        "the rewritten code does not compile: 'return' outside function (line 14)",
    ),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stats.py").write_text(STATS)
    (tmp_path / "other.py").write_text(OTHER)
    return tmp_path


def break_the_planner(monkeypatch, mangle) -> None:
    engine = ftmigrate.engine
    real = engine.apply_fixes

    def broken(ctx, *args, write: bool, **kwargs):
        outcome = real(ctx, *args, write=write, **kwargs)
        if write and "total" in outcome.module.code:
            broken_code = mangle(outcome.module.code)
            assert broken_code != outcome.module.code, "the break did not apply: the test would prove nothing"
            outcome.module = cst.parse_module(broken_code)
        return outcome

    monkeypatch.setattr(engine, "apply_fixes", broken)


def ftmigrate_cli(*args: str):
    return CliRunner().invoke(app, [*args, "--no-cache", "--jobs", "1"], catch_exceptions=False)


@pytest.mark.parametrize("how", BREAKS)
def test_apply_refuses_a_broken_rewrite_and_leaves_the_file_unchanged(project: Path, monkeypatch, how: str):
    mangle, reason = BREAKS[how]
    break_the_planner(monkeypatch, mangle)
    result = ftmigrate_cli("apply", "stats.py", "other.py")
    assert result.exit_code == 1
    assert result.stderr == f"error: stats.py: rewrite refused, file left unchanged: {reason}\n"
    assert (project / "stats.py").read_bytes() == STATS.encode()
    assert (project / "other.py").read_text() == OTHER_FIXED  # the run goes on
    assert sorted(p.name for p in project.iterdir()) == ["other.py", "stats.py"]  # no temp file left
    assert result.stdout.splitlines() == [
        f"stats.py:7:5: FT001 {COUNTER} [confidence: medium] (no automatic fix)",
        f"stats.py:8:5: FT001 {TOTAL} [confidence: medium] (no automatic fix)",
        "fixed other.py (1 fix)",
        "Fixed 1 finding in 1 file; 2 remaining, 1 error.",
    ]


def test_diff_shows_no_hunk_for_a_refused_rewrite(project: Path, monkeypatch):
    break_the_planner(monkeypatch, BREAKS["statement dropped"][0])
    result = ftmigrate_cli("apply", "--diff", "stats.py", "other.py")
    assert result.exit_code == 1
    assert "stats.py" not in result.stdout and result.stdout.startswith("--- a/other.py\n+++ b/other.py\n")
    assert result.stderr.splitlines()[0] == f"error: stats.py: rewrite refused, file left unchanged: {DIFFERS}"
    assert (project / "stats.py").read_text() == STATS and (project / "other.py").read_text() == OTHER


def test_json_report_of_a_refused_rewrite(project: Path, monkeypatch):
    break_the_planner(monkeypatch, BREAKS["operator changed"][0])
    result = ftmigrate_cli("apply", "--format", "json", "stats.py")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == [{"path": "stats.py", "message": f"rewrite refused, file left unchanged: {DIFFERS}"}]
    assert [(f["line"], f["fixed"]) for f in report["findings"]] == [(7, False), (8, False)]
    assert report["summary"] == {"files": 1, "findings": 2, "fixed": 0, "errors": 1}
    assert (project / "stats.py").read_text() == STATS


def test_the_unbroken_planner_fixes_the_same_file(project: Path):
    """The control: without the break, the same run rewrites stats.py and exits 0."""
    result = ftmigrate_cli("apply", "stats.py", "other.py")
    assert (result.exit_code, result.stderr) == (0, "")
    assert "with _stats_lock:\n        counter += 1\n        total += n\n" in (project / "stats.py").read_text()
