"""SIGINT and SIGTERM to a running `ftmigrate batch` (the parent only, as `kill` and CI
timeouts send them): every worker and test command stops within seconds, the repository in
flight is rolled back, no branch, patch or worktree appears afterwards, the exit code is
130 / 143, and the partial report tells `--resume` and a person the truth."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.batch_repos import COUNTER, branch_of, git, make_repo
from tests.conftest import REPO

# Each run records its shell's pid; r1 passes at once; while SLOW exists the others hang.
SLOW_TESTS = (
    'name=$(basename "$PWD"); echo $$ > "{log}/$name.pid"; '
    'if [ "$name" != r1 ] && [ -e "{slow}" ]; then sleep 120; fi'
)
STOP_WITHIN = 5.0  # seconds; measured about 1 s on an idle machine


def _alive(pids: set[int]) -> list[str]:
    alive = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(process.cmdline())[:100]}")
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait_for(paths: list[Path], proc: subprocess.Popen, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not all(p.exists() and p.read_text().strip() for p in paths):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the batch never got there"
        time.sleep(0.05)


def _descendants(pid: int) -> set[int]:
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def _stop_a_running_batch(tmp_path: Path, signum: int, *executor: str):
    """Start a batch of r1..r4 (r1's tests pass at once, r2's and r3's hang), stop it with
    ``signum`` once r2 and r3 are in their tests; return what is needed to check the aftermath."""
    repos = [make_repo(tmp_path / f"r{i}", {"m.py": COUNTER}) for i in range(1, 5)]
    out, log, slow = tmp_path / "out", tmp_path / "log", tmp_path / "slow"
    log.mkdir()
    slow.write_text("")
    command = SLOW_TESTS.format(log=log, slow=slow)
    args = ["batch", *map(str, repos), "--output", str(out), "--jobs", "2", "--test-cmd", command, *executor]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "ftmigrate", *args], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: set[int] = set()
    try:
        # r1 is done, r2 and r3 are in their (hanging) test commands, r4 waits for a worker.
        _wait_for([log / "r1.pid", log / "r2.pid", log / "r3.pid"], proc)
        seen = _descendants(proc.pid) | {int((log / f"r{i}.pid").read_text()) for i in (2, 3)}
        seen |= {child for pid in list(seen) for child in _descendants(pid)}
        sent = time.monotonic()
        os.kill(proc.pid, signum)  # the parent only, not its process group
        output, _ = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        for pid in seen:  # never leave anything behind, even when the test fails
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                pass
    return proc.returncode, output, took, seen, repos, out, args, env


def _assert_only_the_completed_work_is_left(signum: int, output: str, took: float, seen: set[int], repos: list[Path], out: Path) -> None:
    name = signal.Signals(signum).name
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    time.sleep(0.5)  # anything still alive would go on creating branches; give it the chance
    assert _alive(seen) == [], "processes left running after the batch stopped"
    assert f"ftmigrate: stopped by {name}. completed: r1; rolled back: r2, r3; not started: r4." in output, output
    # Only r1's work exists: its branch and patch; nothing of the others, no worktree anywhere.
    assert [branch_of(r) is not None for r in repos] == [True, False, False, False]
    for repo in repos:
        assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1, repo
    assert not (out / "worktrees").exists()
    assert sorted(p.name for p in out.iterdir()) == ["r1.json", "r1.patch", "report.json", "report.md"]
    data = json.loads((out / "report.json").read_text())
    assert (data["partial"], data["stopped_by"]) == (True, name)
    assert {r["name"]: r["status"] for r in data["repositories"]} == {
        "r1": "changed", "r2": "rolled back", "r3": "rolled back", "r4": "not started",
    }
    assert data["repositories"][1]["error"] == f"stopped by {name} undone: no branch, patch or worktree left"
    assert (out / "report.md").read_text().startswith(f"# ftmigrate batch report (partial)\n\n**Partial: stopped by {name}.**")


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_batch_stops_everything_and_leaves_only_what_it_completed(tmp_path: Path, signum: int, code: int):
    returncode, output, took, seen, repos, out, args, env = _stop_a_running_batch(tmp_path, signum)
    assert returncode == code, output
    _assert_only_the_completed_work_is_left(signum, output, took, seen, repos, out)

    # --resume finishes the job without redoing r1.
    (tmp_path / "slow").unlink()
    (tmp_path / "log" / "r1.pid").unlink()
    resumed = subprocess.run([sys.executable, "-m", "ftmigrate", *args, "--resume"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert not (tmp_path / "log" / "r1.pid").exists()  # r1 was resumed, not tested again
    assert all(branch_of(r) is not None for r in repos)
    assert json.loads((out / "report.json").read_text())["partial"] is False


def test_a_stopped_dask_batch_rolls_back_the_tasks_running_on_the_cluster(tmp_path: Path):
    distributed = pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        returncode, output, took, seen, repos, out, _, _ = _stop_a_running_batch(
            tmp_path, signal.SIGTERM, "--executor", "dask", "--scheduler", cluster.scheduler_address
        )
        assert returncode == 143, output
        _assert_only_the_completed_work_is_left(signal.SIGTERM, output, took, seen, repos, out)
