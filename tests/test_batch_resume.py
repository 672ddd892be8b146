"""`ftmigrate batch --resume` after a batch was killed mid-run, and a worker that dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.batch_repos import CLEAN, COUNTER, branch_of, git, make_repo, report_rows, snapshot
from tests.conftest import REPO

# Logs one line per run into LOG/<repository>; in repository "r3" the first run records its
# shell's pid in MARKER and hangs, so the test can kill the batch right there.
HANG_ONCE = (
    'name=$(basename "$PWD"); echo run >> "{log}/$name"; '
    'if [ "$name" = r3 ] && [ ! -e "{marker}" ]; then echo $$ > "{marker}"; sleep 300; fi'
)


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the batch never reached r3"
        time.sleep(0.1)
    while not path.read_text().strip():  # written, not only created
        time.sleep(0.05)


def test_resume_after_a_killed_batch_does_not_redo_finished_repositories(tmp_path: Path):
    repos = [
        make_repo(tmp_path / "r1", {"m.py": COUNTER}),
        make_repo(tmp_path / "r2", {"m.py": CLEAN}),
        make_repo(tmp_path / "r3", {"m.py": COUNTER}),
        make_repo(tmp_path / "r4", {"m.py": COUNTER}),
    ]
    before = [snapshot(r) for r in repos]
    out, log, marker = tmp_path / "out", tmp_path / "log", tmp_path / "marker"
    log.mkdir()
    args = ["batch", *map(str, repos), "--output", str(out), "--jobs", "1", "--test-cmd", HANG_ONCE.format(log=log, marker=marker)]

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "ftmigrate", *args], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(marker, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the batch and its pool worker, as by `kill -9`
        proc.communicate()
        if marker.exists() and marker.read_text().strip():
            os.killpg(int(marker.read_text()), signal.SIGKILL)  # the hanging test command

    first = {name: (out / f"{name}.json").read_bytes() for name in ("r1", "r2")}
    assert not (out / "r3.json").exists() and not (out / "report.json").exists()
    assert (out / "worktrees" / "r3").is_dir()  # left behind by the kill
    assert "r3" in git(repos[2], "worktree", "list")
    r1_commit = branch_of(repos[0])

    result = CliRunner().invoke(app, [*args, "--resume"])

    assert result.exit_code == 0, result.output
    rows = report_rows(out)
    assert {n: (r["status"], r["resumed"]) for n, r in rows.items()} == {
        "r1": ("changed", True), "r2": ("clean", True), "r3": ("changed", False), "r4": ("changed", False),
    }
    # Finished repositories were not redone: their tests ran once, their results and branch are the same.
    assert {p.name: p.read_text().count("run") for p in log.iterdir()} == {"r1": 1, "r3": 2, "r4": 1}
    assert {name: (out / f"{name}.json").read_bytes() for name in ("r1", "r2")} == first
    assert branch_of(repos[0]) == r1_commit == rows["r1"]["commit"]
    assert branch_of(repos[2]) == rows["r3"]["commit"] and branch_of(repos[3]) == rows["r4"]["commit"]
    assert "[1/4] r1: changed (resumed)" in result.stderr
    assert "| r1 | changed (resumed) |" in (out / "report.md").read_text()
    # The interrupted repository's stale worktree is gone; the users' copies are untouched.
    assert not (out / "worktrees").exists()
    assert [snapshot(r) for r in repos] == before

    # Another --resume redoes nothing at all.
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 0
    assert all(row["resumed"] for row in report_rows(out).values())
    assert {p.name: p.read_text().count("run") for p in log.iterdir()} == {"r1": 1, "r3": 2, "r4": 1}


def test_resume_redoes_a_repository_whose_head_or_options_changed(tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"m.py": COUNTER})
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["batch", str(repo), "-o", str(out), "--branch", "ft/one"]).exit_code == 0
    first = report_rows(out)["repo"]

    # Other options: a new result (and a new branch name, so no clash).
    assert CliRunner().invoke(app, ["batch", str(repo), "-o", str(out), "--branch", "ft/two", "--resume"]).exit_code == 0
    second = report_rows(out)["repo"]
    assert second["resumed"] is False and second["branch"] == "ft/two"

    # A new HEAD: redone; the old branch of that name is not up to date, so it fails.
    (repo / "n.py").write_text(COUNTER)
    git(repo, "add", "n.py")
    git(repo, "commit", "-q", "-m", "more")
    result = CliRunner().invoke(app, ["batch", str(repo), "-o", str(out), "--branch", "ft/one", "--resume"])
    assert result.exit_code == 1
    row = report_rows(out)["repo"]
    assert row["resumed"] is False and row["head"] != first["head"]
    assert "it is not up to date with HEAD" in row["error"]
    assert branch_of(repo, "ft/one") == first["commit"]


def test_resume_adopts_a_branch_created_just_before_the_batch_was_killed(tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"m.py": COUNTER})
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["batch", str(repo), "-o", str(out)]).exit_code == 0
    commit = branch_of(repo)
    (out / "repo.json").unlink()  # killed after the branch was made, before the result was saved

    result = CliRunner().invoke(app, ["batch", str(repo), "-o", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    row = report_rows(out)["repo"]
    assert (row["status"], row["commit"], row["resumed"]) == ("changed", commit, False)
    assert branch_of(repo) == commit


def test_a_worker_that_dies_fails_only_its_own_repository(tmp_path: Path):
    repos = [make_repo(tmp_path / name, {"m.py": COUNTER}) for name in ("a", "killer", "c")]
    before = [snapshot(r) for r in repos]
    # The test command of "killer" kills the worker process running it ($PPID of the shell).
    kill = '[ "$(basename "$PWD")" != killer ] || kill -9 $PPID'
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", *map(str, repos), "-o", str(out), "--jobs", "2", "--test-cmd", kill])
    assert result.exit_code == 1
    rows = report_rows(out)
    assert {n: r["status"] for n, r in rows.items()} == {"a": "changed", "killer": "failed", "c": "changed"}
    assert rows["killer"]["error"].startswith("worker crashed: the worker process died")
    assert branch_of(repos[1]) is None
    assert not (out / "worktrees").exists()
    assert [snapshot(r) for r in repos] == before
