"""The parts of `batch` that need no repository: names in DIR, the test command, progress."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from rich.console import Console

from ftmigrate.batch.model import BatchOptions, CommandOutcome, RepoResult, is_url, make_tasks, repo_names
from ftmigrate.batch.progress import PlainProgress, RichProgress
from ftmigrate.batch.testcmd import TAIL_LINES, run_test_command


def test_names_are_basenames_when_unique():
    assert repo_names(["/src/app", "/src/lib.git", "https://example.com/org/tool.git", "git@host:org/cli"]) == ["app", "lib", "tool", "cli"]


def test_names_shared_by_two_repositories_get_a_stable_hash():
    names = repo_names(["/team-a/service", "/team-b/Service", "/x/app"])
    assert names[0].startswith("service-") and names[1].startswith("Service-") and names[2] == "app"
    assert len({n.casefold() for n in names}) == 3  # also on a case-insensitive file system
    assert repo_names(["/team-a/service", "/team-b/Service", "/x/app"]) == names
    assert repo_names(["/team-b/Service", "/team-a/service"]) == [names[1], names[0]]


def test_names_never_clash_with_the_report_or_our_folders():
    names = repo_names(["/x/report", "/x/worktrees", "/x/clones", "/x/odd name!", "/"])
    assert [n.split("-")[0] for n in names[:3]] == ["report", "worktrees", "clones"]
    assert all(len(n) == len(base) + 9 for n, base in zip(names, ["report", "worktrees", "clones"]))
    assert names[3:] == ["odd-name", "repo"]


def test_sources_listed_twice_are_processed_once(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = BatchOptions(output=str(tmp_path / "out"))
    tasks, repeated = make_tasks(["app", str(tmp_path / "app"), "./app/", "https://h/app.git"], options)
    assert [(t.source, t.name) for t in tasks][0] == (str(tmp_path / "app"), tasks[0].name)
    assert len(tasks) == 2 and repeated == [str(tmp_path / "app")] * 2
    assert tasks[0].name != tasks[1].name  # "app" twice: a local path and a URL


@pytest.mark.parametrize("source, url", [("https://h/r.git", True), ("ssh://h/r", True), ("git@h:r.git", True), ("/abs/r", False), ("rel/r", False), ("C:/r", False)])
def test_what_counts_as_a_url(source: str, url: bool):
    assert is_url(source) is url


def test_options_key_changes_with_what_the_result_depends_on():
    base = BatchOptions(output="/out")
    assert base.key() == BatchOptions(output="/elsewhere", resume=True, test_timeout=5).key()
    assert len({base.key(), BatchOptions(output="/out", select=("FT001",)).key(), BatchOptions(output="/out", test_cmd="pytest").key(),
                BatchOptions(output="/out", branch="b").key(), BatchOptions(output="/out", dry_run=True).key()}) == 5


def test_test_command_output_tail_and_exit_code(tmp_path: Path):
    outcome = run_test_command("for i in $(seq 1 100); do echo line $i; done; echo oops >&2; exit 4", tmp_path, timeout=60)
    assert (outcome.passed, outcome.exit_code, outcome.timed_out) == (False, 4, False)
    lines = outcome.output_tail.splitlines()
    assert len(lines) == TAIL_LINES and lines[0] == f"line {100 - TAIL_LINES + 2}" and lines[-1] == "oops"


def test_test_command_runs_in_the_worktree_without_git_variables(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GIT_DIR", "/somewhere/else")
    outcome = run_test_command('pwd; echo "[${GIT_DIR-unset}]"', tmp_path, timeout=60)
    assert outcome.passed and outcome.output_tail == f"{tmp_path}\n[unset]"


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_test_command_timeout_kills_it_and_what_it_started(tmp_path: Path):
    pidfile = tmp_path / "pid"
    outcome = run_test_command(f"echo started; sleep 300 & echo $! > {pidfile}; wait", tmp_path, timeout=1)
    assert (outcome.passed, outcome.exit_code, outcome.timed_out) == (False, None, True)
    assert outcome.output_tail == "started\n[ftmigrate: timed out after 1 s; killed]"
    background = int(pidfile.read_text())
    deadline = time.monotonic() + 30
    while not _gone(background) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(background)


def _results() -> list[RepoResult]:
    test = CommandOutcome(command="pytest", passed=True, exit_code=0, timed_out=False, seconds=1.0, output_tail="")
    return [
        RepoResult(name="app", source="/r/app", status="changed", files_changed=["a.py", "b.py"], fixed=3, not_fixable=1, test=test, branch="ft"),
        RepoResult(name="lib", source="/r/lib", status="failed", error="not a git repository"),
        RepoResult(name="old", source="/r/old", status="clean", resumed=True),
    ]


def test_plain_progress_lines():
    stream = io.StringIO()
    progress = PlainProgress(3, stream)
    for result in _results():
        progress(result)
    assert stream.getvalue().splitlines() == [
        "[1/3] app: changed: 3 fixed in 2 files, 1 not auto-fixable, tests passed -> ft",
        "[2/3] lib: failed: not a git repository",
        "[3/3] old: clean (resumed): nothing to change",
    ]


def test_rich_progress_bar_on_a_terminal():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    with RichProgress(3, console) as progress:
        for result in _results():
            progress(result)
    text = buffer.getvalue()
    for line in ("app: changed: 3 fixed in 2 files", "lib: failed: not a git repository", "old: clean (resumed)"):
        assert line in text
    assert "3/3" in text and "1 changed, 1 clean, 1 failed" in text


def test_batch_cli_help_lists_the_options():
    from typer.testing import CliRunner

    from ftmigrate.cli import app

    result = CliRunner().invoke(app, ["batch", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    for option in ("--repos-file", "--output", "--branch", "--select", "--ignore", "--test-cmd", "--test-timeout",
                   "--jobs", "--executor", "--scheduler", "--resume", "--dry-run", "--verify", "--python", "--threads",
                   "--iterations", "--timeout"):
        assert option in result.output


def test_progress_names_the_repositories_in_progress_and_the_time_left():
    from ftmigrate.batch.progress import Pace

    now = [100.0]
    pace = Pace(["a", "b", "c", "d", "e"], jobs=2, clock=lambda: now[0])
    stream = io.StringIO()
    progress = PlainProgress(5, stream, pace)
    assert pace.status() == "working on a, b"
    for name, at in (("b", 110.0), ("a", 120.0), ("c", 130.0)):
        now[0] = at
        progress(RepoResult(name=name, source=f"/r/{name}", status="clean"))
    assert stream.getvalue().splitlines() == [
        "[1/5] b: clean: nothing to change (working on a, c)",
        "[2/5] a: clean: nothing to change (working on c, d; about 30 s left)",  # 20 s for 2, 3 left
        "[3/5] c: clean: nothing to change (working on d, e; about 20 s left)",
    ]


def test_counts_are_plural_only_when_they_should_be(tmp_path: Path):
    from typer.testing import CliRunner

    from ftmigrate.cli import app
    from tests.batch_repos import CLEAN, make_repo

    repo = make_repo(tmp_path / "one", {"m.py": CLEAN})
    result = CliRunner().invoke(app, ["batch", str(repo), "--output", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].startswith("1 repository: 1 clean (")
    from ftmigrate import __version__

    assert f"ftmigrate {__version__}, 1 repository: 1 clean." in (tmp_path / "out" / "report.md").read_text()
