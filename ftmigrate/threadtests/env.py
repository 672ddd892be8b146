"""The venv verify runs the tests in: one per project + interpreter + dependency set.

Cached under ``cache_dir()/verify-envs/<key>``, the key being a hash of the project's path,
the interpreter, the pinned test tooling and the bytes of the files that declare the
project's dependencies; a changed ``pyproject.toml`` gets a fresh venv. The project is
installed editable with its test extra or dependency group, plus pytest-run-parallel.
Another tree of the same project (the `apply` copy, a git ref) is put in its place with
``pip install --no-deps -e`` (same dependencies), and the original back before the next run.
"""

from __future__ import annotations

import configparser
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ftmigrate.freethreaded import FreeThreadedPython, cache_dir
from ftmigrate.threadtests import VerifyError

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

# Pinned: the events our plugin reads from it (which tests ran single-threaded) are not public API.
TOOLING = ("pytest-run-parallel==0.10.0",)
DEPENDENCY_FILES = (
    "pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "requirements-test.txt",
    "requirements-dev.txt", "test-requirements.txt", "requirements/test.txt",
)
TEST_EXTRAS = ("test", "tests", "testing")
TARGET_DIR = Path(__file__).resolve().parent / "target"
PIP_TIMEOUT = 1800


@dataclass
class ProjectEnv:
    """A ready venv: its python, and how each distribution in it got there."""

    folder: Path
    python: str
    extra: str | None
    group: str | None
    # distribution name (lowercase) -> "cp313t wheel", "abi3 wheel", "pure wheel", "built from sdist", "editable", ...
    sources: dict[str, str] = field(default_factory=dict)

    def run_env(self) -> dict[str, str]:
        """The environment for processes in the venv: no PYTHONPATH/PYTHONHOME of ours, the GIL forced off."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHON_GIL", "VIRTUAL_ENV")}
        env.update(PYTHON_GIL="0", VIRTUAL_ENV=str(self.folder), PYTHONDONTWRITEBYTECODE="1")
        env["PATH"] = str(self.folder / "bin") + os.pathsep + env.get("PATH", "")
        return env


def test_requirements(project: Path) -> tuple[str | None, str | None]:
    """The project's test extra (pyproject.toml, or setup.cfg's ``[options.extras_require]``)
    and test dependency group (PEP 735), when it declares them."""
    try:
        data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    extras = dict((data.get("project") or {}).get("optional-dependencies") or {})
    extras.update(dict.fromkeys(_setup_cfg_extras(project)))  # setuptools projects declare them there (waitress)
    groups = data.get("dependency-groups") or {}
    extra = next((name for name in TEST_EXTRAS if name in extras), None)
    group = next((name for name in TEST_EXTRAS if name in groups), None)
    return extra, group


def _setup_cfg_extras(project: Path) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(project / "setup.cfg", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    return list(parser["options.extras_require"]) if parser.has_section("options.extras_require") else []


def env_key(project: Path, python: FreeThreadedPython) -> str:
    digest = hashlib.sha256()
    extra, group = test_requirements(project)  # what gets installed, not only the files it comes from
    for part in (str(project.resolve()), python.executable, python.version, *TOOLING, f"[{extra}]", f"group {group}"):
        digest.update(part.encode() + b"\0")
    for name in DEPENDENCY_FILES:
        path = project / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(str(folder) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two verify runs on one project share the venv, one at a time
        yield


def _pip(env: ProjectEnv, args: list[str], what: str) -> None:
    cmd = [env.python, "-m", "pip", "install", "--disable-pip-version-check", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env.run_env())
    except subprocess.TimeoutExpired:
        raise VerifyError(f"pip timed out after {PIP_TIMEOUT}s installing {what}") from None
    if proc.returncode != 0:
        raise VerifyError(f"pip could not install {what}:\n{(proc.stdout + proc.stderr).strip()[-3000:]}")


def wheel_kind(url: str, editable: bool) -> str:
    """How a distribution was installed, from the URL pip's install report gives."""
    if editable:
        return "editable"
    name = url.rsplit("/", 1)[-1].split("#")[0]
    if not name.endswith(".whl"):
        return "built from sdist"
    python_tag, abi_tag = name[:-4].split("-")[-3:-1]
    if abi_tag.endswith("t") and abi_tag.startswith("cp"):
        return f"{abi_tag} wheel"
    if abi_tag == "abi3":
        return "abi3 wheel"
    return "pure wheel" if abi_tag == "none" else f"{abi_tag} wheel"


def _read_report(path: Path) -> dict[str, str]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    sources = {}
    for item in report.get("install", []):
        info = item.get("download_info") or {}
        editable = bool((info.get("dir_info") or {}).get("editable"))
        sources[item["metadata"]["name"].lower()] = wheel_kind(info.get("url", ""), editable)
    return sources


@contextmanager
def using(project: Path, python: FreeThreadedPython, say: Callable[[str], None] = lambda _: None) -> Iterator[ProjectEnv]:
    """The project's venv, created and installed on first use, reused after; held for the
    whole run (another run on the same project waits: it would swap the installed tree)."""
    folder = cache_dir() / "verify-envs" / env_key(project, python)
    extra, group = test_requirements(project)
    env = ProjectEnv(folder=folder, python=str(folder / "bin" / "python"), extra=extra, group=group)
    state = folder / "ftmigrate-env.json"
    with _locked(folder):
        if state.is_file():
            env.sources = json.loads(state.read_text(encoding="utf-8"))["sources"]
            install_tree(env, project, say)
        else:
            _create(env, project, python, say)
        yield env


def _create(env: ProjectEnv, project: Path, python: FreeThreadedPython, say: Callable[[str], None]) -> None:
    folder = env.folder
    shutil.rmtree(folder, ignore_errors=True)  # a half-built venv from an interrupted run
    say(f"creating a venv with {python.executable} in {folder}")
    proc = subprocess.run([python.executable, "-m", "venv", str(folder)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise VerifyError(f"cannot create a venv with {python.executable}: {proc.stderr.strip()[-2000:]}")
    say(f"installing {project.name}{f'[{env.extra}]' if env.extra else ''} and {', '.join(TOOLING)} (pip)")
    target = f"{project.resolve()}[{env.extra}]" if env.extra else str(project.resolve())
    args = ["--report", str(folder / "pip-report.json"), "-e", target, *TOOLING]
    if env.group:
        args += ["--group", f"{project.resolve() / 'pyproject.toml'}:{env.group}"]
    _pip(env, args, f"{project} and its test dependencies")
    env.sources = _read_report(folder / "pip-report.json")
    _write_state(env, project)


def _write_state(env: ProjectEnv, tree: Path) -> None:
    data = {"sources": env.sources, "installed_tree": str(tree.resolve())}
    tmp = env.folder / "ftmigrate-env.json.tmp"
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, env.folder / "ftmigrate-env.json")


def install_tree(env: ProjectEnv, tree: Path, say: Callable[[str], None] = lambda _: None) -> None:
    """Make ``tree`` the project installed (editable) in the venv, if it is not already."""
    state = env.folder / "ftmigrate-env.json"
    data = json.loads(state.read_text(encoding="utf-8"))
    if data.get("installed_tree") == str(tree.resolve()):
        return
    say(f"installing {tree} in the venv (no dependencies)")
    _pip(env, ["--no-deps", "-e", str(tree.resolve())], str(tree))
    _write_state(env, tree)


def inventory(env: ProjectEnv) -> list[dict]:
    """Every distribution in the venv (``target/inventory.py``)."""
    proc = subprocess.run(
        [env.python, str(TARGET_DIR / "inventory.py")], capture_output=True, text=True, env=env.run_env(), timeout=300
    )
    if proc.returncode != 0:
        raise VerifyError(f"cannot list the venv's distributions: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout)
