"""Run ``ftmigrate scan`` and ``ftmigrate apply`` on a copy of a library and measure the change."""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.realworld.lockcheck import classify

REPO = Path(__file__).resolve().parents[2]
SAFETY_KEYS = ("applicability", "safety", "fix_safety")


def ftmigrate(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    """The ftmigrate of this checkout, as a user runs it (a subprocess, JSON report)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "ftmigrate", *arguments, "--format", "json", "--no-cache", "."],
        cwd=cwd, env=env, capture_output=True, text=True,
    )


@functools.lru_cache(maxsize=1)
def has_unsafe_fixes() -> bool:
    """Whether this ftmigrate's ``apply`` has ``--unsafe-fixes`` (read from its --help)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200", NO_COLOR="1")
    result = subprocess.run([sys.executable, "-m", "ftmigrate", "apply", "--help"],
                            env=env, capture_output=True, text=True)
    return "--unsafe-fixes" in result.stdout


def _report(result: subprocess.CompletedProcess, command: str) -> dict:
    if result.returncode not in (0, 1):
        raise RuntimeError(f"ftmigrate {command} exited {result.returncode}: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def _safety(finding: dict) -> str | None:
    for key in SAFETY_KEYS:
        if finding.get(key):
            return str(finding[key]).lower()
    return None


@dataclass
class Migration:
    """What ``apply`` did to one copy."""

    mode: str  # "safe" or "unsafe" (--unsafe-fixes)
    scan_findings: dict[str, int] = field(default_factory=dict)
    scan_fixable: int = 0
    fixes: int = 0
    fixes_by_safety: dict[str, int] = field(default_factory=dict)
    files_changed: int = 0
    tool_errors: int = 0
    compile_errors: list[str] = field(default_factory=list)
    locks: list[dict] = field(default_factory=list)

    def lock_counts(self) -> dict[str, int]:
        counts = Counter(lock["kind"] for lock in self.locks)
        for lock in self.locks:
            counts.update(lock["flags"])
        return {name: counts.get(name, 0) for name in ("dedicated", "proven", "unproven", "unbound", "in_async", "nested")}

    def to_dict(self) -> dict:
        return {**self.__dict__, "lock_counts": self.lock_counts()}


def mode_options(mode: str) -> list[str]:
    """The command-line options of a mode: "safe" is plain ``apply``, "unsafe" adds ``--unsafe-fixes``."""
    return ["--unsafe-fixes"] if mode == "unsafe" else []


def scan(copy: Path, mode: str) -> tuple[dict[str, int], int]:
    """Findings by rule, and how many of them are fixable (in this mode: scan takes the same options)."""
    findings = _report(ftmigrate("scan", *mode_options(mode), cwd=copy), "scan")["findings"]
    return dict(Counter(finding["rule"] for finding in findings)), sum(f.get("fixable", False) for f in findings)


def python_files(root: Path) -> dict[str, Path]:
    return {str(path.relative_to(root)): path for path in root.rglob("*.py") if path.is_file()}


def apply(pristine: Path, copy: Path, mode: str, scanned: tuple[dict[str, int], int]) -> Migration:
    """``ftmigrate apply`` (plus ``--unsafe-fixes`` in mode "unsafe") on ``copy``, a fresh copy of ``pristine``.

    ``scanned`` is what ``scan(pristine, mode)`` found: findings by rule and how many are fixable.
    """
    migration = Migration(mode=mode)
    migration.scan_findings, migration.scan_fixable = scanned
    report = _report(ftmigrate("apply", *mode_options(mode), cwd=copy), "apply")
    fixed = [finding for finding in report["findings"] if finding.get("fixed")]
    migration.fixes = len(fixed)
    safety = Counter(_safety(finding) for finding in fixed)
    safety.pop(None, None)
    migration.fixes_by_safety = dict(safety)
    migration.tool_errors = len(report["errors"])
    before, after = python_files(pristine), python_files(copy)
    for relative, path in sorted(after.items()):
        original = before.get(relative)
        new_bytes = path.read_bytes()
        if original is None or original.read_bytes() == new_bytes:
            continue
        migration.files_changed += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(new_bytes, relative, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
                compile(new_bytes, relative, "exec", dont_inherit=True)
                locks = classify(original.read_bytes(), new_bytes)
        except (SyntaxError, ValueError) as error:
            migration.compile_errors.append(f"{relative}: {error}")
            continue
        migration.locks.extend({"path": relative, **lock.to_dict()} for lock in locks)
    return migration
