"""FT002 through the command line: scan, apply --diff and apply on a temp project."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.conftest import TESTDATA

MESSAGE = "`seen` (module state) is tested and then changed without a lock; two threads can both pass the test (check-then-act)"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def ftmigrate(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_scan_reports_fixable_findings(project):
    (project / "app.py").write_bytes((TESTDATA / "FT002" / "list_append.before.py").read_bytes())
    result = ftmigrate("scan", "--select", "FT002", "app.py")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"app.py:7:5: FT002 [*] {MESSAGE} [confidence: medium]",
        f"app.py:13:9: FT002 [*] {MESSAGE} [confidence: medium]",
        "Found 2 findings in 1 file (2 fixable with `ftmigrate apply`).",
    ]


def test_diff_previews_and_writes_nothing(project):
    before = (TESTDATA / "FT002" / "delete_to_pop.before.py").read_bytes()
    (project / "jobs.py").write_bytes(before)
    result = ftmigrate("apply", "--diff", "--select", "FT002", "jobs.py")
    assert result.exit_code == 1
    assert result.stdout == (
        "--- a/jobs.py\n"
        "+++ b/jobs.py\n"
        "@@ -3,12 +3,11 @@\n"
        " \n"
        " def finish(job_id):\n"
        "     # Forget the job whether or not it was started.\n"
        "-    if job_id in pending:  # may already be gone\n"
        "-        del pending[job_id]\n"
        "+    pending.pop(job_id, None)  # may already be gone\n"
        " \n"
        " \n"
        " def cancel(job_id):\n"
        "-    if job_id in pending: del pending[job_id]\n"
        "+    pending.pop(job_id, None)\n"
        " \n"
        " \n"
        " def start(job_id, job):\n"
    )
    assert (project / "jobs.py").read_bytes() == before


def test_refused_fix_is_not_fixable_in_scan_and_explained_by_apply(project):
    before = (TESTDATA / "FT002" / "deadlock_refused.before.py").read_bytes()
    (project / "loader.py").write_bytes(before)
    message = (
        "`self._data` (instance state) is tested and then changed without a lock; "
        "two threads can both pass the test (check-then-act)"
    )
    scan = ftmigrate("scan", "--select", "FT002", "loader.py")
    assert scan.exit_code == 1
    assert scan.stdout.splitlines() == [
        f"loader.py:14:9: FT002 {message} [confidence: medium]",
        "Found 1 finding in 1 file (0 fixable with `ftmigrate apply`).",
    ]
    apply = ftmigrate("apply", "--select", "FT002", "loader.py")
    assert apply.exit_code == 1
    assert apply.stdout.splitlines()[0] == (
        f"loader.py:14:9: FT002 {message} [confidence: medium] (not fixed: it calls _load(), which takes `self._lock` too; "
        "holding that lock here would deadlock)"
    )
    assert (project / "loader.py").read_bytes() == before
