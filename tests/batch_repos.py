"""Real git repositories in a temp folder for the ``batch`` tests, and what to compare."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

COUNTER = "counter = 0\n\n\ndef bump():\n    global counter\n    counter += 1\n"
TOTAL = "total = 0\n\n\ndef add(n):\n    global total\n    total = total + n\n    return total\n"
NOT_FIXABLE = "received = 0\n\n\nasync def receive(stream):\n    global received\n    received += await stream.read()\n"
CLEAN = "def double(x):\n    return 2 * x\n"

_ENV = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
for _name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
    _ENV.pop(_name, None)


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    command = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", "-C", str(cwd), *args]
    proc = subprocess.run(command, capture_output=True, input=input, env=_ENV)
    assert proc.returncode == 0, f"{command}: {proc.stderr.decode()}"
    return proc.stdout.decode().rstrip("\n")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    write(path, files)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def make_dirty(repo: Path) -> None:
    """Everything a working copy can hold besides HEAD: a stash, staged and unstaged edits,
    an untracked file and an ignored one."""
    write(repo, {"stashed.py": "counter = 5\n"})
    git(repo, "add", "stashed.py")
    git(repo, "stash", "push", "-q", "-m", "work in progress")
    write(repo, {".gitignore": "*.log\n"})
    git(repo, "add", ".gitignore")  # staged
    (repo / "pkg" / "counter.py").write_text(COUNTER + "\n# edited, not committed\n", encoding="utf-8")  # unstaged
    write(repo, {"scratch.py": COUNTER, "debug.log": "ignored\n"})  # untracked, ignored


def snapshot(folder: Path) -> dict:
    """Everything a user could see change: every file's bytes (untracked and ignored ones
    too), the index file, status, stash, current branch and HEAD."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] == ".git" or path.is_dir():
            continue
        files[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    state: dict = {"files": files}
    if (folder / ".git").exists():
        state["index"] = hashlib.sha256((folder / ".git" / "index").read_bytes()).hexdigest()
        state["status"] = git(folder, "status", "--porcelain", "--untracked-files=all", "--ignored")
        state["stash"] = git(folder, "stash", "list", "--format=%H %gs")
        state["branch"] = git(folder, "symbolic-ref", "HEAD")
        state["head"] = git(folder, "rev-parse", "HEAD")
        state["worktrees"] = git(folder, "worktree", "list", "--porcelain")
    return state


def branch_of(repo: Path, branch: str = "ftmigrate/free-threading") -> str | None:
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], capture_output=True, text=True, env=_ENV)
    return proc.stdout.strip() or None


def report_rows(output: Path) -> dict[str, dict]:
    data = json.loads((output / "report.json").read_text(encoding="utf-8"))
    return {row["name"]: row for row in data["repositories"]}
