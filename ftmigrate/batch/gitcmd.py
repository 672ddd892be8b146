"""Running ``git`` for a batch: always by subprocess, always with an explicit ``-C``.

Commits are made with the identity ``git commit`` would use (the repository's, the user's or
the environment's), and with ftmigrate's own only where git has none, so they work on any
machine. Every call switches off what a user's configuration could add behind our back:
hooks (a failing or slow pre-commit hook of the repository), commit signing (a passphrase
prompt), and prompts for credentials.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Sequence

FALLBACK_IDENTITY = ("-c", "user.name=ftmigrate", "-c", "user.email=ftmigrate@localhost")
QUIET_CONFIG = (
    "-c", f"core.hooksPath={os.devnull}",
    "-c", "commit.gpgSign=false",
    # format-patch output must apply with `git am` (-p1), whatever the user's diff config says.
    "-c", "diff.noprefix=false",
    "-c", "diff.mnemonicPrefix=false",
)
# Variables that would point git at another repository, index or work tree than -C says.
_REPOSITORY_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX",
)


class GitError(Exception):
    """A git command failed; the message is git's own, without the noise around it."""


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    env["GIT_TERMINAL_PROMPT"] = "0"
    # `git status` must not refresh the user's index: we promise to leave it byte for byte.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    return env


def git_bytes(where: Path | str, *args: str, stdin: bytes | None = None, config: Sequence[str] = ()) -> bytes:
    """``git -C where args...``; returns stdout as it is (patches keep their files' encodings).
    ``config``: more ``-c name=value`` options."""
    command = ["git", *config, *QUIET_CONFIG, "--literal-pathspecs", "-C", str(where), *args]
    try:
        proc = subprocess.run(command, input=stdin, capture_output=True, env=clean_environment())
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit code {proc.returncode}"
        raise GitError(f"git {args[0]}: {_last_fatal(message)}")
    return proc.stdout


def git(where: Path | str, *args: str, stdin: bytes | None = None, config: Sequence[str] = ()) -> str:
    """``git -C where args...``; returns stdout as text without the final newline."""
    return git_bytes(where, *args, stdin=stdin, config=config).decode("utf-8", "surrogateescape").rstrip("\n")


def commit_identity(where: Path | str) -> tuple[str, ...]:
    """No options when git knows who commits here, as ``git commit`` would; else ftmigrate's."""
    known = succeeds(where, "var", "GIT_AUTHOR_IDENT") and succeeds(where, "var", "GIT_COMMITTER_IDENT")
    return () if known else FALLBACK_IDENTITY


def succeeds(where: Path | str, *args: str) -> bool:
    try:
        git(where, *args)
    except GitError:
        return False
    return True


def _last_fatal(message: str) -> str:
    """git's ``fatal:``/``error:`` line, which says what went wrong, rather than hints."""
    lines = [line for line in message.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(("fatal: ", "error: ")):
            return line.split(": ", 1)[1]
    return lines[-1] if lines else message


def nul_separated(paths: Sequence[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)


def resolve(where: Path | str, revision: str) -> str | None:
    """The object id ``revision`` names, or None if it names nothing (an unborn HEAD, no branch)."""
    try:
        return git(where, "rev-parse", "--verify", "--quiet", "--end-of-options", revision)
    except GitError:
        return None
