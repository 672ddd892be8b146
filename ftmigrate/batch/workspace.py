"""Where a repository's migration happens: a detached ``git worktree`` under the output folder.

The user's own working tree, index, stash and current branch are never touched: git only
adds the worktree's bookkeeping in ``.git/worktrees/`` (removed again when we are done) and,
at the very end, the new branch.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ftmigrate.batch.gitcmd import GitError, git, resolve
from ftmigrate.batch.model import is_url


class RepoError(Exception):
    """This repository cannot be migrated; the message says why (it becomes the report's error)."""


class OutputInsideRepository(RepoError):
    """The output folder lies in a repository's working tree: the whole run is refused."""


@dataclass(frozen=True)
class Repository:
    path: Path  # what `git -C` gets: the working tree's top, a bare repository, or our clone
    work_tree: Path | None  # the user's working tree, if there is one
    base: str  # the revision a migration starts from


def open_repository(source: str, output: Path, name: str) -> Repository:
    if is_url(source):
        return _cloned(source, output / "clones" / name)
    path = Path(source)
    if not path.is_dir():
        raise RepoError(f"no such directory: {path}" if not path.exists() else f"not a directory: {path}")
    try:
        bare = git(path, "rev-parse", "--is-bare-repository") == "true"
    except GitError:
        raise RepoError("not a git repository") from None
    if bare:
        return Repository(path=path, work_tree=None, base="HEAD")
    top = Path(git(path, "rev-parse", "--show-toplevel"))
    if not top.samefile(path):
        # Naming a folder inside a repository would silently migrate the whole enclosing
        # repository (a vendored copy, a monorepo): say so instead.
        raise RepoError(f"not a git repository, but a folder inside the repository {top}")
    real_output, real_top = os.path.realpath(output), os.path.realpath(top)
    if os.path.commonpath([real_output, real_top]) == real_top:
        raise OutputInsideRepository(f"the output folder {output} is inside the working tree of the repository {top}; choose one outside it")
    return Repository(path=top, work_tree=top, base="HEAD")


def _cloned(url: str, clone: Path) -> Repository:
    """A bare clone under DIR/clones (made once, then fetched): the branch is created there."""
    if not (clone / "HEAD").is_file():
        partial = clone.with_name(clone.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        try:
            git(partial.parent, "clone", "--bare", "--quiet", "--", url, str(partial))
        except GitError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise RepoError(f"cannot clone {url}: {exc}") from None
        os.replace(partial, clone)
    try:
        git(clone, "fetch", "--quiet", "origin", "HEAD")
    except GitError as exc:
        raise RepoError(f"cannot fetch {url}: {exc}") from None
    return Repository(path=clone, work_tree=None, base="FETCH_HEAD")


def head_commit(repo: Repository) -> str | None:
    """The commit to start from; None if the repository has no commits yet."""
    return resolve(repo.path, f"{repo.base}^{{commit}}")


def has_uncommitted_changes(repo: Repository) -> bool:
    if repo.work_tree is None:
        return False
    return bool(git(repo.path, "status", "--porcelain", "--untracked-files=no"))


def discard_worktree(repo_path: Path, worktree: Path) -> None:
    """Remove our worktree, also one left behind by an interrupted run."""
    try:
        git(repo_path, "worktree", "remove", "--force", str(worktree))
    except GitError:
        pass  # not registered (any more): only the folder may be left
    shutil.rmtree(worktree, ignore_errors=True)


@contextmanager
def detached_worktree(repo: Repository, worktree: Path, commit: str) -> Iterator[Path]:
    discard_worktree(repo.path, worktree)
    worktree.parent.mkdir(parents=True, exist_ok=True)
    git(repo.path, "worktree", "add", "--quiet", "--force", "--detach", str(worktree), commit)
    try:
        yield worktree
    finally:
        discard_worktree(repo.path, worktree)


def create_branch(repo: Repository, branch: str, commit: str, base: str, *, adopt: bool) -> str:
    """Point the new branch at ``commit``; never move an existing branch.

    With ``adopt`` (``--resume``), an existing branch that already holds the same change on
    the same base is kept and its commit returned: a run interrupted after creating the
    branch but before recording it ends up where it would have.
    """
    ref = f"refs/heads/{branch}"
    existing = resolve(repo.path, ref)
    if existing is None:
        try:
            git(repo.path, "update-ref", "-m", "ftmigrate batch", ref, commit, "")  # "": must not exist
            return commit
        except GitError:
            existing = resolve(repo.path, ref)
            if existing is None:
                raise
    if adopt and _same_change(repo.path, existing, commit, base):
        return existing
    raise _branch_taken(branch, existing, adopt)


def check_branch_free(repo: Repository, branch: str, base: str, *, adopt: bool) -> None:
    """Before any work: RepoError if ``branch`` exists, unless ``adopt`` may take it over at
    the end (it sits on ``base``: an interrupted run's branch; ``create_branch`` compares the change)."""
    existing = resolve(repo.path, f"refs/heads/{branch}")
    if existing is not None and not (adopt and resolve(repo.path, f"{existing}^") == base):
        raise _branch_taken(branch, existing, adopt)


def _branch_taken(branch: str, existing: str, adopt: bool) -> RepoError:
    hint = "it is not up to date with HEAD; " if adopt else ""
    return RepoError(
        f"branch {branch!r} already exists (at {existing[:12]}); {hint}ftmigrate never overwrites a branch: "
        f"delete it or choose another --branch"
    )


def _same_change(where: Path, existing: str, commit: str, base: str) -> bool:
    return resolve(where, f"{existing}^") == base and resolve(where, f"{existing}^{{tree}}") == resolve(where, f"{commit}^{{tree}}")
