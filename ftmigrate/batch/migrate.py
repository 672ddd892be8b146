"""Running ``ftmigrate apply`` in a worktree and committing what it changed."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ftmigrate.batch.gitcmd import commit_identity, git, nul_separated
from ftmigrate.batch.model import BatchOptions
from ftmigrate.config import Config, ConfigError, find_pyproject, load_config
from ftmigrate.runner import APPLY, run


MAX_LISTED = 50  # findings listed in a commit message; the JSON result has them all


@dataclass
class Migration:
    files_changed: list[str] = field(default_factory=list)  # relative to the repository, sorted
    findings: Counter = field(default_factory=Counter)  # rule code -> count
    fixed: Counter = field(default_factory=Counter)
    unfixable: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "path: reason" for files that failed

    @property
    def not_fixable(self) -> int:
        return len(self.unfixable)


def repository_config(worktree: Path) -> Config:
    """The repository's own ``[tool.ftmigrate]`` (in its top folder), never one from a folder
    that merely contains the output folder."""
    found = find_pyproject(worktree)
    if found is not None and found.parent != worktree.resolve():
        found = None
    return load_config(found, fallback_root=worktree)


def apply_in(worktree: Path, options: BatchOptions) -> Migration:
    """``ftmigrate apply`` on the whole worktree, with the repository's config and our options."""
    from codemods import configured_rules

    config = repository_config(worktree)
    config.exclude += options.exclude
    try:
        rules = configured_rules(list(options.select), list(options.ignore), config)
    except ConfigError as exc:
        raise ConfigError(f"pyproject.toml: {exc}") from None
    report = run([worktree], rules, config, APPLY)
    migration = Migration()
    for result in report.results:
        relative = _relative(result.path, worktree)
        if result.error is not None:
            migration.errors.append(f"{relative}: {result.error}")
            continue
        if result.changed:
            migration.files_changed.append(relative)
        for finding in result.findings:
            migration.findings[finding.rule] += 1
            if finding.fixed:
                migration.fixed[finding.rule] += 1
            else:
                reason = finding.unfixable_reason or "no automatic fix"
                migration.unfixable.append({"path": relative, "line": finding.line, "rule": finding.rule, "message": finding.message, "reason": reason})
    migration.files_changed.sort()
    return migration


def _relative(path: Path, worktree: Path) -> str:
    # Lexical: a link in the worktree is named as the link, not as where it leads.
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(worktree)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def commit_message(migration: Migration, base: str, options: BatchOptions) -> str:
    from codemods import RULES_BY_CODE

    files = len(migration.files_changed)
    total = sum(migration.fixed.values())
    lines = [
        "Lock shared state for free-threaded Python (ftmigrate)",
        "",
        f"`ftmigrate apply` fixed {total} finding{'s' * (total != 1)} in {files} file{'s' * (files != 1)}:",
    ]
    for code in sorted(migration.findings):
        rule = RULES_BY_CODE.get(code)
        title = f"{code} {rule.name}" if rule else code
        lines.append(f"- {title}: {migration.fixed[code]} fixed of {migration.findings[code]} found")
    if migration.unfixable:
        lines += ["", "Not auto-fixable, left for review:"]
        shown = migration.unfixable[:MAX_LISTED]
        lines += [f"- {u['path']}:{u['line']}: {u['rule']} {u['message']} ({u['reason']})" for u in shown]
        if len(migration.unfixable) > len(shown):
            lines.append(f"- ... and {len(migration.unfixable) - len(shown)} more (see the batch report)")
    lines += ["", f"Ftmigrate-Base: {base}", f"Ftmigrate-Options: {options.key()}"]
    return "\n".join(lines) + "\n"


def commit(worktree: Path, migration: Migration, message: str) -> str:
    """Commit exactly the files ftmigrate rewrote (nothing a later test run leaves behind)."""
    git(worktree, "add", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=nul_separated(migration.files_changed))
    git(worktree, "commit", "--quiet", "--no-verify", "--file=-", stdin=message.encode("utf-8"), config=commit_identity(worktree))
    return git(worktree, "rev-parse", "HEAD")
