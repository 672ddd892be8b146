"""benchmarks/bench_scan.py runs end to end (on the small demo project: the numbers that
matter come from the standard library, by hand, not from a test)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, TESTDATA


def test_bench_scan_measures_every_row_against_ruff():
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_scan.py"), str(TESTDATA / "demo"), "--json", "--skip-libcst"],
        capture_output=True, text=True, timeout=300, check=True,
    )
    data = json.loads(completed.stdout)
    assert (data["files"], data["select"]) == (4, "all")
    rows = {row["name"]: row for row in data["results"]}
    assert list(rows) == [
        "ruff check --select PLW0603",
        "ftmigrate scan (cold cache)",
        "ftmigrate scan (warm cache)",
        "ftmigrate apply --diff --no-cache",
    ]
    # The demo has findings: both scans and the diff exit 1, the warm one from the cache.
    assert [rows[name]["exit_code"] for name in list(rows)[1:]] == [1, 1, 1]
    assert rows["ruff check --select PLW0603"]["ratio_to_ruff"] == 1.0
    for row in rows.values():
        assert row["wall"] > 0 and row["max_rss_mb"] > 0
        assert abs(row["ratio_to_ruff"] - row["wall"] / rows["ruff check --select PLW0603"]["wall"]) < 1e-9
