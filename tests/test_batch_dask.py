"""`ftmigrate batch --executor dask` on a real (local, 2-process) Dask cluster gives the same
report as the local process pool."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.batch_repos import CLEAN, COUNTER, NOT_FIXABLE, TOTAL, branch_of, make_dirty, make_repo, report_rows, snapshot, write

distributed = pytest.importorskip("dask.distributed", reason='dask.distributed is not installed (pip install "dask[distributed]")')
import dask  # noqa: E402  (only once dask.distributed is known to be there)

FAIL_IF_MARKED = "python -c \"import os, sys; sys.exit(1 if os.path.exists('FAIL') else 0)\""


def _fleet(root: Path) -> list[Path]:
    repos = [
        make_repo(root / "app", {"app/stats.py": COUNTER, "app/totals.py": TOTAL, "app/stream.py": NOT_FIXABLE}),
        make_repo(root / "clean", {"lib.py": CLEAN}),
        make_repo(root / "dirty", {"pkg/__init__.py": "", "pkg/counter.py": COUNTER}),
        make_repo(root / "failing", {"counter.py": COUNTER, "FAIL": ""}),
        make_repo(root / "a" / "service", {"service.py": COUNTER}),
        make_repo(root / "b" / "service", {"service.py": TOTAL}),
    ]
    make_dirty(repos[2])
    write(root / "plain", {"counter.py": COUNTER})
    return repos + [root / "plain"]


def _comparable(out: Path, root: Path) -> tuple[dict, str]:
    """The report without what differs from run to run: where, when, how long, commit ids
    (and the hash in the names of the two "service" repositories, made from their paths)."""
    rows = {}
    markdown = (out / "report.md").read_text()
    for name, row in report_rows(out).items():
        where = Path(row["source"]).relative_to(root).as_posix()
        markdown = markdown.replace(name, where)
        row["patch"] = row["patch"] and row["patch"].replace(name, where)
        for key in ("name", "source", "repository", "commit", "seconds"):
            row.pop(key)
        if row["test"]:
            row["test"].pop("seconds")
        rows[where] = row
    markdown = markdown.replace(str(root), "ROOT")
    markdown = re.sub(r"`[0-9a-f]{12}`", "`COMMIT`", markdown)
    markdown = re.sub(r"Executor: \w+, [0-9.]+ s\.", "Executor: -", markdown)
    return rows, markdown


def _run(repos: list[Path], out: Path, *executor: str):
    return CliRunner().invoke(app, ["batch", *map(str, repos), "-o", str(out), "--test-cmd", FAIL_IF_MARKED, *executor])


def test_dask_executor_gives_the_same_report_as_the_local_one(tmp_path: Path):
    local_root, dask_root = tmp_path / "local", tmp_path / "dask"
    local_repos = _fleet(local_root)
    shutil.copytree(local_root, dask_root, symlinks=True)  # the same commits, so the same HEADs
    dask_repos = [dask_root / r.relative_to(local_root) for r in local_repos]
    before = [snapshot(r) for r in dask_repos]

    local = _run(local_repos, tmp_path / "out-local", "--jobs", "2")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = _run(dask_repos, tmp_path / "out-dask", "--executor", "dask", "--scheduler", cluster.scheduler_address)

    assert (local.exit_code, remote.exit_code) == (1, 1), remote.output
    local_rows, local_md = _comparable(tmp_path / "out-local", local_root)
    dask_rows, dask_md = _comparable(tmp_path / "out-dask", dask_root)
    assert dask_rows == local_rows
    assert dask_md == local_md
    assert {n: r["status"] for n, r in dask_rows.items()} == {
        "app": "changed", "clean": "clean", "dirty": "changed", "failing": "failed", "plain": "failed",
        "a/service": "changed", "b/service": "changed",
    }
    # The branches were made on the Dask workers, in the repositories themselves.
    for repo, row in zip(dask_repos, report_rows(tmp_path / "out-dask").values()):
        assert branch_of(repo) == row["commit"] if (repo / ".git").exists() else row["commit"] is None
    assert [snapshot(r) for r in dask_repos] == before
    assert '"executor": "dask"' in (tmp_path / "out-dask" / "report.json").read_text()


def test_unreachable_scheduler_is_a_usage_error(tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"m.py": COUNTER})
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = CliRunner().invoke(
            app, ["batch", str(repo), "-o", str(tmp_path / "out"), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"]
        )
    assert result.exit_code == 2
    assert "ftmigrate: error: cannot connect to the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert branch_of(repo) is None and not (tmp_path / "out").exists()
