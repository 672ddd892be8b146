"""Saying what was (not) checked: a run that checks no file warns why instead of passing,
and an interrupted run that writes nothing does not talk about rewriting."""

from __future__ import annotations

from pathlib import Path

import pytest

import ftmigrate.cli
from tests.test_hostile_input import RACY, cli


@pytest.fixture
def installed_tree(tmp_path: Path, monkeypatch) -> Path:
    """Like pyenv's root: a repository whose .gitignore lists /versions, where the code is."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("# built interpreters\n/versions\n")
    lib = tmp_path / "versions" / "3.11" / "lib"
    lib.mkdir(parents=True)
    (lib / "counter.py").write_text(RACY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_tree_excluded_by_gitignore_warns_that_nothing_was_checked(installed_tree: Path):
    result = cli("scan", ".", "--no-cache")
    assert result.stderr == (
        f"warning: no Python files were checked: all were excluded: versions/ by pattern '/versions' in "
        f"{installed_tree / '.gitignore'} (use --no-gitignore to include what .gitignore excludes)\n"
    )
    assert result.stdout == "No Python files checked.\n"
    assert result.exit_code == 0  # as ruff: nothing found is not a failure, but it is said
    included = cli("scan", ".", "--no-cache", "--no-gitignore")
    assert included.exit_code == 1 and "versions/3.11/lib/counter.py:5:5: FT001" in included.stdout
    assert included.stderr == ""


def test_files_left_out_by_exclude_patterns_are_named_with_the_pattern(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.py", "b.py", "c.py", "d.py"):
        (tmp_path / name).write_text(RACY)
    result = cli("scan", ".", "--no-cache", "--exclude", "*.py")
    assert result.stderr == (
        "warning: no Python files were checked: all were excluded: a.py by exclude pattern '*.py'; "
        "b.py by exclude pattern '*.py'; c.py by exclude pattern '*.py' and 1 more\n"
    )
    assert result.exit_code == 0


def test_a_folder_without_python_files(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("nothing here\n")
    result = cli("apply", ".", "--no-cache")
    assert result.stderr == "warning: no Python files found under the given paths\n"
    assert result.exit_code == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["scan", "."], "ftmigrate: interrupted\n"),
        (["apply", "--diff", "."], "ftmigrate: interrupted\n"),
        (["apply", "."], "ftmigrate: interrupted; files are either rewritten or untouched, none half-written\n"),
    ],
    ids=["scan", "diff", "apply"],
)
def test_an_interrupted_run_only_mentions_rewriting_when_it_writes(tmp_path: Path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ftmigrate.cli, "run", interrupted)
    result = cli(*args)
    assert (result.exit_code, result.stderr) == (130, message)
