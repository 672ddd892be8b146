"""--jobs: a process pool gives the same output, in the same order, as one process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate import firstpass, runner
from ftmigrate.cli import app

RACY = "total = 0\n\n\ndef add(n):\n    global total\n    total += n\n"
CLEAN = "def f(x):\n    return x + 1\n"
FILES = 3 * runner.POOL_MIN_FILES  # enough for pools to be used: the first pass's, and the
RACY_FILES = FILES // 2  # checking pool's, for the racy files (quiet ones need no second look)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for i in range(FILES):
        folder = root / f"pkg{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i:02d}.py").write_text(RACY if i % 2 == 0 else CLEAN)
    (root / "pkg0" / "broken.py").write_text("def f(:\n    global n\n    n += 1\n")
    return root


def spy_on_pools(monkeypatch) -> list[tuple[int, int]]:
    """(files, jobs) of each process pool the run starts."""
    started = []
    pooled = runner._pooled
    first = firstpass.first_pass

    def first_spy(files, root, rules, options, *, jobs=1, cache=True):
        if jobs > 1:
            started.append((len(files), jobs, "first pass"))
        return first(files, root, rules, options, jobs=jobs, cache=cache)

    monkeypatch.setattr(runner, "first_pass", first_spy)

    def spy(work, rules, options, jobs, store):
        started.append((len(work), jobs))
        return pooled(work, rules, options, jobs, store)

    monkeypatch.setattr(runner, "_pooled", spy)
    return started


def invoke(cwd: Path, monkeypatch, *args: str):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "command, per_racy_file",
    [(["scan"], "FT001"), (["scan", "--format", "json"], '"FT001"'), (["apply", "--diff"], "+++ b/")],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_pool_output_equals_single_process_output(tree, monkeypatch, command, per_racy_file):
    pools = spy_on_pools(monkeypatch)
    one = invoke(tree, monkeypatch, *command, "--jobs", "1", "--no-cache")
    assert pools == []
    two = invoke(tree, monkeypatch, *command, "--jobs", "2", "--no-cache")
    assert pools == [(FILES + 1, 2, "first pass"), (RACY_FILES + 1, 2)]  # then the racy files and broken.py
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout and one.stdout.count(per_racy_file) == RACY_FILES
    assert one.stderr == two.stderr and "broken.py: syntax error" in one.stderr


def test_pool_apply_writes_what_single_process_apply_writes(tree, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    one = invoke(tree, monkeypatch, "apply", "--jobs", "1", "--no-cache")
    two = invoke(copy, monkeypatch, "apply", "--jobs", "2", "--no-cache")
    assert one.stdout == two.stdout and one.stdout.count("fixed pkg") == RACY_FILES
    files = sorted(p.relative_to(tree) for p in tree.rglob("*.py"))
    assert [(tree / p).read_bytes() for p in files] == [(copy / p).read_bytes() for p in files]
    assert "with _total_lock:" in (tree / "pkg0" / "mod00.py").read_text()


def test_jobs_must_be_positive(tree, monkeypatch):
    result = invoke(tree, monkeypatch, "scan", "--jobs", "0")
    assert result.exit_code == 2
