"""The pre-commit hooks in .pre-commit-hooks.yaml, run the way pre-commit runs them: the
hook's entry plus the staged Python files as arguments."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.test_cli import CLEAN, FIXED, RACY, invoke

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HOOKS = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    git("init", "-q")
    (tmp_path / "pyproject.toml").write_text('[tool.ftmigrate]\nexclude = ["vendor"]\n')
    for name, text in {
        "pkg/racy.py": RACY,
        "pkg/clean.py": CLEAN,
        "vendor/racy.py": RACY,  # staged but excluded by the project's config
        "notes.txt": "global n; n += 1\n",  # staged but not Python
        "pkg/unstaged.py": RACY,  # not staged: pre-commit does not pass it
    }.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    git("add", "pyproject.toml", "pkg/racy.py", "pkg/clean.py", "vendor/racy.py", "notes.txt")
    return tmp_path


def staged_python_files() -> list[str]:
    """What pre-commit passes to a hook with `types: [python]`."""
    staged = git("diff", "--cached", "--name-only", "--diff-filter=ACMR").split()
    return [name for name in staged if name.endswith((".py", ".pyi"))]


def run_hook(hook_id: str):
    hook = HOOKS[hook_id]
    program, *args = shlex.split(hook["entry"])
    assert program == "ftmigrate"
    return invoke(*args, *hook.get("args", []), *staged_python_files())


def test_hook_definitions():
    assert set(HOOKS) == {"ftmigrate-scan", "ftmigrate-apply"}
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in HOOKS.values():
        assert hook["language"] == "python" and hook["types"] == ["python"]
        assert shlex.split(hook["entry"])[0] in scripts  # the console script pip installs


def test_scan_hook_fails_on_staged_racy_code_only(repo):
    assert staged_python_files() == ["pkg/clean.py", "pkg/racy.py", "vendor/racy.py"]
    result = run_hook("ftmigrate-scan")
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:-1]] == ["pkg/racy.py"]
    assert result.stdout.splitlines()[-1] == "Found 1 finding in 2 files (1 fixable with `ftmigrate apply`)."


def test_apply_hook_fixes_staged_files_and_then_scan_passes(repo):
    result = run_hook("ftmigrate-apply")
    assert result.exit_code == 0
    assert (repo / "pkg" / "racy.py").read_text() == FIXED
    assert (repo / "vendor" / "racy.py").read_text() == RACY  # excluded
    assert (repo / "pkg" / "unstaged.py").read_text() == RACY  # not staged
    git("add", "pkg/racy.py")
    assert run_hook("ftmigrate-scan").exit_code == 0


def test_without_force_exclude_named_files_are_checked(repo):
    # Why the hooks pass --force-exclude: pre-commit names every staged file explicitly.
    result = invoke("scan", *staged_python_files())
    assert "vendor/racy.py:6:5: FT001" in result.stdout


def test_force_exclude_honours_gitignore_and_default_folders(repo):
    (repo / ".gitignore").write_text("generated/\n")
    for name in ("generated/racy.py", "build/racy.py"):
        (repo / name).parent.mkdir()
        (repo / name).write_text(RACY)
    forced = invoke("scan", "--force-exclude", "--format", "json", "generated/racy.py", "build/racy.py", "pkg/racy.py")
    assert forced.exit_code == 1
    assert '"path": "pkg/racy.py"' in forced.stdout and "generated/" not in forced.stdout and "build/" not in forced.stdout
