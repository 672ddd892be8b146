"""A library's own tests and smoke programs, run against one copy of its source.

Each library gets a venv under ``~/.cache/ftmigrate/realworld-venvs`` with the packages of
its ``install`` list (the library's own wheel may be among them, for its dependencies: the
copy under test comes first on ``PYTHONPATH``, and every run first asserts that the modules
of ``import`` are loaded from that copy). pytest writes a JUnit XML report; outcomes are
compared per test id.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.realworld.libraries import CACHE, Library

VENVS = CACHE / "realworld-venvs"
SMOKE = Path(__file__).with_name("smoke")
PLUGINS = Path(__file__).with_name("plugins")
TEST_TIMEOUT = 900
# Tests must not reach the network: tornado skips its DNS tests with NO_NETWORK.
OFFLINE_ENV = {"NO_NETWORK": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def venv_python(library: Library) -> Path:
    """The venv's interpreter, created (and its packages installed) on first use."""
    spec = "\n".join([sys.version, *library.suite.install])
    folder = VENVS / f"{library.label}-{hashlib.sha256(spec.encode()).hexdigest()[:10]}"
    python = folder / "bin" / "python"
    if (folder / "ready").exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *library.suite.install], check=True)
    (folder / "ready").write_text(spec)
    return python


def _environment(library: Library, copy: Path) -> dict[str, str]:
    source = copy / library.suite.path if library.suite.path else copy
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "PYTHON"))}
    env.update(OFFLINE_ENV, PYTHONPATH=os.pathsep.join([str(source), str(PLUGINS)]))
    return env


def assert_imported_from(library: Library, python: Path, copy: Path) -> dict[str, str]:
    """Import each module of the suite's ``import`` list; fail unless it comes from ``copy``."""
    program = "import importlib, json, sys; print(json.dumps({m: importlib.import_module(m).__file__ for m in sys.argv[1:]}))"
    result = subprocess.run([str(python), "-c", program, *library.suite.imports], cwd=copy,
                            env=_environment(library, copy), capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{library.name}: import failed from {copy}: {result.stderr[-2000:]}")
    files = json.loads(result.stdout.strip().splitlines()[-1])
    for module, path in files.items():
        if not Path(path).resolve().is_relative_to(copy.resolve()):
            raise RuntimeError(f"{library.name}: {module} was imported from {path}, not from {copy}")
    return files


@dataclass
class SuiteRun:
    outcomes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    exit_code: int = 0
    imported: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        return dict(sorted(counts.items()))


def junit_outcomes(report: Path, copy: Path) -> dict[str, str]:
    """``{test id: passed|failed|skipped}`` from a pytest JUnit XML report.

    An error (in set-up or teardown) counts as failed; the copy's path, which some tests
    put in their parameters, is replaced with ``<copy>`` so both runs have the same ids.
    """
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}".replace(str(copy), "<copy>")
        children = {child.tag for child in case}
        if children & {"error", "failure"}:
            outcome = "failed"
        elif "skipped" in children:
            outcome = "skipped"
        else:
            outcome = "passed"
        # A test that fails and then errors in teardown has two entries: keep the worse.
        if outcomes.get(test_id) == "failed":
            continue
        outcomes[test_id] = outcome
    return outcomes


def run_suite(library: Library, copy: Path, report: Path) -> SuiteRun:
    """The library's tests (``suite.args``) against ``copy``; an empty run if it has none."""
    python = venv_python(library)
    run = SuiteRun(imported=assert_imported_from(library, python, copy))
    if not library.suite.args:
        return run
    started = time.monotonic()
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         f"--junitxml={report}", "-o", "junit_family=xunit1", *library.suite.args],
        cwd=copy, env=_environment(library, copy), capture_output=True, text=True, timeout=TEST_TIMEOUT,
    )
    run.seconds = time.monotonic() - started
    run.exit_code = result.returncode
    if not report.exists():
        raise RuntimeError(f"{library.name}: pytest wrote no report (exit {result.returncode}): {result.stdout[-3000:]}{result.stderr[-2000:]}")
    run.outcomes = junit_outcomes(report, copy)
    return run


@dataclass
class SmokeRun:
    program: str
    exit_code: int
    output: str
    seconds: float


def run_smoke(library: Library, copy: Path, program: str) -> SmokeRun:
    """One program of ``smoke/`` with the library's venv and ``copy`` first on the path."""
    python = venv_python(library)
    assert_imported_from(library, python, copy)
    started = time.monotonic()
    result = subprocess.run([str(python), str(SMOKE / program)], cwd=copy, env=_environment(library, copy),
                            capture_output=True, text=True, timeout=300)
    return SmokeRun(program, result.returncode, (result.stdout + result.stderr)[-3000:], time.monotonic() - started)


def compare(before: SuiteRun, after: SuiteRun) -> dict[str, tuple[str, str]]:
    """Test ids whose outcome differs: ``{id: (before, after)}`` ("missing" if absent)."""
    ids = set(before.outcomes) | set(after.outcomes)
    return {test_id: (before.outcomes.get(test_id, "missing"), after.outcomes.get(test_id, "missing"))
            for test_id in sorted(ids) if before.outcomes.get(test_id) != after.outcomes.get(test_id)}
