"""One repository, start to finish; this is the function a worker process (or Dask task) runs.

Steps: open the repository -> (``--resume``: reuse a finished result for the same HEAD and
options) -> a detached worktree at HEAD under DIR/worktrees -> ``apply`` there -> commit
(or, with ``--dry-run``, only a diff) -> ``--test-cmd`` -> ``--verify`` -> create the branch -> record.
Whatever goes wrong is recorded as this repository's failure; nothing is raised, so one
repository can never stop the batch.
"""

from __future__ import annotations

import time
from pathlib import Path

from ftmigrate.batch import stop, store
from ftmigrate.batch.gitcmd import GitError, git_bytes, resolve
from ftmigrate.batch.migrate import Migration, apply_in, commit, commit_message
from ftmigrate.batch.model import CHANGED, CLEAN, FAILED, NOT_STARTED, ROLLED_BACK, SKIPPED, RepoResult, RepoTask, is_url
from ftmigrate.batch.testcmd import run_test_command
from ftmigrate.batch.verifyrun import verify_step
from ftmigrate.batch.workspace import (
    OutputInsideRepository,
    Repository,
    RepoError,
    check_branch_free,
    create_branch,
    detached_worktree,
    discard_worktree,
    has_uncommitted_changes,
    head_commit,
    open_repository,
)
from ftmigrate.config import ConfigError

MAX_ERRORS_SHOWN = 5


def process_repo(task: RepoTask) -> RepoResult:
    output = Path(task.options.output)
    result = RepoResult(name=task.name, source=task.source, status=FAILED, options_key=task.options.key())
    signum = stop.WORKER.signum or stop.stop_requested(output)
    if signum:  # handed out just before the batch was stopped
        return stopped_result(task, NOT_STARTED, signum)
    started = time.monotonic()
    try:
        with stop.WORKER.armed():
            result = _process_or_fail(task, output, result)
    except stop.Stopped as exc:
        _roll_back(task, output)
        return stopped_result(task, ROLLED_BACK, exc.signum)
    if result.resumed:
        return result
    result.seconds = round(time.monotonic() - started, 3)
    try:
        store.save_result(output, result)
    except OSError as exc:
        result.status, result.error = FAILED, f"cannot write the result to {output}: {exc.strerror or exc}"
    return result


def _process_or_fail(task: RepoTask, output: Path, result: RepoResult) -> RepoResult:
    try:
        return _process(task, output, result)
    except (RepoError, GitError, ConfigError) as exc:
        result.status, result.error = FAILED, str(exc)
    except Exception as exc:  # a bug of ours, or something odd about this repository
        result.status, result.error = FAILED, f"internal error: {type(exc).__name__}: {exc}"
    return result


def stopped_result(task: RepoTask, status: str, signum: int) -> RepoResult:
    what = "undone: no branch, patch or worktree left" if status == ROLLED_BACK else "before it began"
    return RepoResult(
        name=task.name, source=task.source, status=status, options_key=task.options.key(),
        error=f"stopped by {stop.signal_name(signum)} {what}",
    )


def _roll_back(task: RepoTask, output: Path) -> None:
    """After a stop in the middle of this repository: the worktree is already gone (its
    context manager removed it on the way out); its patch or diff goes too."""
    abandon(task)
    store.clear_artifacts(output, task.name)


def abandon(task: RepoTask) -> None:
    """After a worker died on this repository: remove the worktree it left (best effort; the
    next run would remove it too)."""
    output = Path(task.options.output)
    repo_path = output / "clones" / task.name if is_url(task.source) else Path(task.source)
    if repo_path.is_dir():
        discard_worktree(repo_path, output / "worktrees" / task.name)


def check_preconditions(task: RepoTask, output: Path) -> tuple[Repository, str | None]:
    """Everything that can fail a repository before any work: it opens, and its branch is
    free. Also run by the parent for every local repository before the batch starts."""
    repo = open_repository(task.source, output, task.name)
    head = head_commit(repo)
    if head is not None and not task.options.dry_run:
        check_branch_free(repo, task.options.branch, head, adopt=task.options.resume or task.retry)
    return repo, head


def preflight(task: RepoTask) -> RepoResult | None:
    """The failed result of a local repository that cannot be migrated, else None (a URL is
    checked by its worker, after cloning). ``OutputInsideRepository`` is raised."""
    if is_url(task.source):
        return None
    try:
        check_preconditions(task, Path(task.options.output))
    except OutputInsideRepository:
        raise
    except (RepoError, GitError) as exc:
        return RepoResult(name=task.name, source=task.source, status=FAILED, options_key=task.options.key(), error=str(exc))
    return None


def _process(task: RepoTask, output: Path, result: RepoResult) -> RepoResult:
    options = task.options
    check_stop = stop.StopCheck(output)
    repo, head = check_preconditions(task, output)
    result.repository = str(repo.path)
    if head is None:
        result.status = SKIPPED
        result.notes.append("the repository has no commits yet")
        return result
    result.head = head
    if options.resume:
        previous = _finished(task, output, repo, head)
        if previous is not None:
            return previous
    store.clear_artifacts(output, task.name)
    if has_uncommitted_changes(repo):
        result.notes.append("uncommitted changes in the working tree were left alone; the migration starts from HEAD")
    check_stop()
    with detached_worktree(repo, output / "worktrees" / task.name, head) as worktree:
        migration = apply_in(worktree, options)
        check_stop()
        _record(result, migration)
        if migration.errors:
            shown = "; ".join(migration.errors[:MAX_ERRORS_SHOWN])
            more = f" (and {len(migration.errors) - MAX_ERRORS_SHOWN} more)" if len(migration.errors) > MAX_ERRORS_SHOWN else ""
            raise RepoError(f"{len(migration.errors)} file(s) could not be migrated: {shown}{more}")
        if not migration.files_changed:
            verify_step(result, task, worktree, None, check_stop)
            result.status = CLEAN
            return result
        if options.dry_run:
            diff = git_bytes(worktree, "diff", "--no-color", "--no-ext-diff", "--no-relative", "HEAD")
            result.patch = store.save_artifact(output, task.name, ".diff", diff)
            _note_existing_branch(result, repo, options.branch)
            verify_step(result, task, worktree, head, check_stop)
            result.status = CHANGED
            return result
        check_stop()
        sha = commit(worktree, migration, commit_message(migration, head, options))
        patch = git_bytes(worktree, "format-patch", "-1", "--stdout", "--no-signature", sha)
        result.patch = store.save_artifact(output, task.name, ".patch", patch)
        if options.test_cmd:
            result.test = run_test_command(options.test_cmd, worktree, options.test_timeout, check_stop)
            if not result.test.passed:
                how = f"timed out after {options.test_timeout:g} s" if result.test.timed_out else f"exited with {result.test.exit_code}"
                raise RepoError(f"test command {how}; no branch created (the patch is kept for review)")
        verify_step(result, task, worktree, head, check_stop)
    check_stop()
    stop.WORKER.shield()  # the tests passed: a stop now lets this repository finish
    result.commit = create_branch(repo, options.branch, sha, head, adopt=options.resume or task.retry)
    result.branch = options.branch
    result.status = CHANGED
    return result


def _record(result: RepoResult, migration: Migration) -> None:
    result.files_changed = migration.files_changed
    result.findings = dict(sorted(migration.findings.items()))
    result.fixed = sum(migration.fixed.values())
    result.not_fixable = migration.not_fixable
    result.unfixable = migration.unfixable


def _note_existing_branch(result: RepoResult, repo: Repository, branch: str) -> None:
    if resolve(repo.path, f"refs/heads/{branch}") is not None:
        result.notes.append(f"branch {branch!r} already exists: a real run would fail unless --resume finds it up to date")


def _finished(task: RepoTask, output: Path, repo: Repository, head: str) -> RepoResult | None:
    """The stored result, if it is for this HEAD and these options and still true on disk."""
    previous = store.load_result(output, task.name)
    if previous is None or previous.status not in (CHANGED, CLEAN):
        return None
    if previous.head != head or previous.options_key != task.options.key() or previous.source != task.source:
        return None
    if previous.patch is not None and not (output / previous.patch).is_file():
        return None
    if previous.branch is not None and resolve(repo.path, f"refs/heads/{previous.branch}") != previous.commit:
        return None
    previous.resumed = True
    return previous
