"""`apply` and `batch` never write outside the tree, whatever symbolic links a repository
holds (a file link, a folder link, a chain, a link swapped in while the run works); a link
to a file inside the tree is processed once, under the file's own name."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ftmigrate.sourcefile
from ftmigrate.batch.migrate import apply_in
from ftmigrate.batch.model import BatchOptions
from ftmigrate.cli import app
from tests.batch_repos import git, make_repo
from tests.test_hostile_input import FIXED, RACY, cli, error_lines

OUTSIDE_NOTE = "outside the project tree"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder of someone else's files that a fix would change if it reached them."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.py").write_text(RACY)
    (folder / "pkg").mkdir()
    (folder / "pkg" / "mod.py").write_text(RACY)
    return folder


def outside_bytes(outside: Path) -> dict[str, bytes]:
    return {p.relative_to(outside).as_posix(): p.read_bytes() for p in sorted(outside.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "good.py").write_text(RACY)
    monkeypatch.chdir(root)
    return root


def test_apply_never_writes_through_a_file_link_or_a_chain_leading_outside(project: Path, outside: Path):
    before = outside_bytes(outside)
    (project / "link.py").symlink_to(outside / "victim.py")
    (project / "hop.py").symlink_to("link.py")  # a chain: hop.py -> link.py -> outside
    (project / "rel.py").symlink_to(os.path.relpath(outside / "pkg" / "mod.py", project))
    result = cli("apply", ".", "--no-cache")
    victim, mod = os.path.realpath(outside / "victim.py"), os.path.realpath(outside / "pkg" / "mod.py")
    tree = os.path.realpath(project)
    # hop.py and link.py are one file (the first name is kept), reported once
    assert error_lines(result) == [
        f"error: hop.py: resolves through a symbolic link to {victim}, outside the project tree {tree}; not written",
        f"error: rel.py: resolves through a symbolic link to {mod}, outside the project tree {tree}; not written",
    ]
    assert "(not fixed: the file was not written)" in result.stdout
    assert result.exit_code == 1
    assert outside_bytes(outside) == before
    assert (project / "good.py").read_text() == FIXED
    assert os.readlink(project / "link.py") == str(outside / "victim.py")


def test_without_a_config_the_named_folder_is_the_tree_wherever_apply_runs(project: Path, outside: Path, monkeypatch):
    """Run from the folder holding both: the link still leaves the tree that was named."""
    before = outside_bytes(outside)
    (project / "link.py").symlink_to(outside / "victim.py")
    monkeypatch.chdir(project.parent)
    result = cli("apply", "project", "--no-cache")
    assert [line.split(": ", 2)[1] for line in error_lines(result)] == ["project/link.py"]
    assert f"outside the project tree {os.path.realpath(project)}" in result.stderr
    assert outside_bytes(outside) == before and (project / "good.py").read_text() == FIXED


def test_apply_diff_shows_no_change_it_would_refuse_to_write(project: Path, outside: Path):
    (project / "link.py").symlink_to(outside / "victim.py")
    result = cli("apply", "--diff", ".", "--no-cache")
    assert "+++ b/good.py" in result.stdout and "link.py" not in result.stdout
    assert [line.split(":")[1] for line in error_lines(result)] == [" link.py"]


def test_apply_never_writes_through_a_folder_link_leading_outside(project: Path, outside: Path):
    before = outside_bytes(outside)
    (project / "vendor").symlink_to(outside / "pkg", target_is_directory=True)
    walked = cli("apply", ".", "--no-cache")  # a walk does not enter folder links
    assert walked.exit_code == 0 and error_lines(walked) == []
    (outside / "pkg" / "sub").mkdir()
    (outside / "pkg" / "sub" / "deep.py").write_text(RACY)
    before = outside_bytes(outside)
    named = {  # named on the command line, through the link: still refused
        "vendor": ["vendor/mod.py", "vendor/sub/deep.py"],
        "vendor/mod.py": ["vendor/mod.py"],
        "vendor/sub": ["vendor/sub/deep.py"],
        "vendor/sub/deep.py": ["vendor/sub/deep.py"],
    }
    for path, refused in named.items():
        result = cli("apply", path, "--no-cache")
        assert result.exit_code == 1
        assert [line.split(": ", 2)[1] for line in error_lines(result)] == refused, path
        assert OUTSIDE_NOTE in result.stderr
    assert outside_bytes(outside) == before


def test_a_link_inside_the_tree_is_processed_once_under_the_files_own_name(project: Path):
    (project / "a_link.py").symlink_to("good.py")  # sorts (and is walked) before good.py
    result = cli("apply", ".", "--no-cache")
    assert result.exit_code == 0 and error_lines(result) == []
    assert (project / "good.py").read_text() == FIXED
    assert os.readlink(project / "a_link.py") == "good.py"
    assert result.stdout == "fixed good.py (1 fix)\nFixed 1 finding in 1 file; 0 remaining.\n"
    json_run = cli("scan", ".", "--format", "json", "--no-cache")
    assert "a_link.py" not in json_run.stdout


def _swap_after_the_check(monkeypatch, swap) -> None:
    """Run ``swap`` right after the write's location check, before anything is opened."""
    real_locate = ftmigrate.sourcefile.locate

    def locate_then_swap(path, roots):
        found = real_locate(path, roots)
        swap(Path(path))
        return found

    monkeypatch.setattr(ftmigrate.sourcefile, "locate", locate_then_swap)


def _folder_becomes_link(outside: Path):
    def swap(path: Path) -> None:
        if path.name == "mod.py" and not path.parent.is_symlink():
            shutil.rmtree(path.parent)
            path.parent.symlink_to(outside / "pkg", target_is_directory=True)

    return swap


def _file_becomes_link(outside: Path):
    def swap(path: Path) -> None:
        if path.name == "mod.py" and not path.is_symlink():
            path.unlink()
            path.symlink_to(outside / "pkg" / "mod.py")

    return swap


@pytest.mark.parametrize("swapped", ["folder", "file"])
def test_apply_a_link_swapped_in_during_the_run_is_not_followed(project: Path, outside: Path, monkeypatch, swapped):
    before = outside_bytes(outside)
    (project / "sub").mkdir()
    (project / "sub" / "mod.py").write_text(RACY)  # the same bytes as the outside file
    _swap_after_the_check(monkeypatch, (_folder_becomes_link if swapped == "folder" else _file_becomes_link)(outside))
    result = cli("apply", ".", "--no-cache", "--jobs", "1")
    assert outside_bytes(outside) == before
    assert (project / "good.py").read_text() == FIXED
    if swapped == "folder":
        assert error_lines(result) == ["error: sub/mod.py: the folder 'sub' became a symbolic link during the run; not written"]
        assert result.exit_code == 1
    else:
        # The link itself is replaced (a rename never follows it): the fix lands in the tree.
        assert error_lines(result) == ["error: sub/mod.py: the file became a symbolic link during the run; not written"]
        assert (project / "sub" / "mod.py").is_symlink()


def _hostile_repo(root: Path, outside: Path) -> Path:
    repo = make_repo(root / "hostile", {"good.py": RACY})
    (repo / "link.py").symlink_to(outside / "victim.py")
    (repo / "chain.py").symlink_to("link.py")
    (repo / "vendor").symlink_to(outside / "pkg", target_is_directory=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links out of the repository")
    return repo


def test_batch_never_writes_outside_the_worktree(tmp_path: Path, outside: Path):
    before = outside_bytes(outside)
    repo = _hostile_repo(tmp_path, outside)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(repo), "--output", str(out), "--jobs", "1"])
    assert outside_bytes(outside) == before
    assert result.exit_code == 1, result.output
    import json

    row = json.loads((out / "hostile.json").read_text())
    assert row["status"] == "failed" and row["branch"] is None
    assert row["error"].startswith("1 file(s) could not be migrated: chain.py: resolves through a symbolic link to ")
    assert "outside the project tree" in row["error"] and str(out / "worktrees" / "hostile") in row["error"]


@pytest.mark.parametrize("swapped", ["folder", "file"])
def test_batch_migration_step_does_not_follow_a_link_swapped_in(tmp_path: Path, outside: Path, monkeypatch, swapped):
    """What a batch worker runs in its worktree (``apply_in``), with a link swapped in mid-run."""
    before = outside_bytes(outside)
    worktree = make_repo(tmp_path / "worktree", {"good.py": RACY, "sub/mod.py": RACY})
    _swap_after_the_check(monkeypatch, (_folder_becomes_link if swapped == "folder" else _file_becomes_link)(outside))
    migration = apply_in(worktree, BatchOptions(output=str(tmp_path / "out")))
    assert outside_bytes(outside) == before
    assert migration.files_changed == ["good.py"]
    assert len(migration.errors) == 1 and migration.errors[0].startswith("sub/mod.py: the f")
