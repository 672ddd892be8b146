"""The other tree to compare with: `apply` on a temporary copy, or a git ref in a worktree."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ftmigrate.threadtests import VerifyError

# Not the project's source: build output, caches, venvs, version control.
NOT_COPIED = (".git", ".hg", ".tox", ".nox", ".venv", "venv", "__pycache__", "*.egg-info", ".ftmigrate_cache",
              ".pytest_cache", ".mypy_cache", "build", "node_modules")


@contextmanager
def applied_copy(project: Path, unsafe_fixes: bool = False) -> Iterator[tuple[Path, dict]]:
    """A temporary copy of ``project`` with `ftmigrate apply` (``--unsafe-fixes``) run on it,
    and what apply did."""
    from ftmigrate.config import find_pyproject, load_config
    from ftmigrate.runner import APPLY, run
    from ftmigrate.selection import RuleSelection

    scratch = Path(tempfile.mkdtemp(prefix="ftmigrate-verify-apply-"))
    try:
        copy = scratch / project.resolve().name
        shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
        config = load_config(find_pyproject(copy), fallback_root=copy)
        config.unsafe_fixes = config.unsafe_fixes or unsafe_fixes
        report = run([copy], RuleSelection.configured([], [], config), config, APPLY)
        summary = {
            "changed_files": [Path(r.path).resolve().relative_to(copy.resolve()).as_posix() for r in report.changed],
            "fixed": sum(f.fixed for f in report.findings),
            "not_fixed": sum(not f.fixed for f in report.findings),
            "errors": len(report.errors),
        }
        yield copy, summary
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _git(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        raise VerifyError(f"git {' '.join(args)} failed: {exc}") from None
    if proc.returncode != 0:
        raise VerifyError(f"git {' '.join(args)} failed: {proc.stderr.strip()[-1000:]}")
    return proc.stdout.strip()


@contextmanager
def ref_tree(project: Path, ref: str) -> Iterator[Path]:
    """``project`` as it is at git ``ref``, checked out in a temporary worktree."""
    if ref.startswith("-"):
        raise VerifyError(f"not a git ref: {ref!r}")
    prefix = _git(["rev-parse", "--show-prefix"], project)
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], project)
    except VerifyError:
        raise VerifyError(f"unknown git ref {ref!r} in {project}") from None
    scratch = Path(tempfile.mkdtemp(prefix="ftmigrate-verify-ref-"))
    worktree = scratch / project.resolve().name
    _git(["worktree", "add", "--detach", str(worktree), commit], project)
    try:
        yield worktree / prefix
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=str(project), capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
