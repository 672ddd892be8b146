"""Each thread failure points at ftmigrate's findings in the files its traceback went through,
and in the project's modules its test file imports (an ``assert`` in a test names only the
test, not the racy module under it). ``via`` says which: "traceback line" (a finding on a
line of the traceback), "traceback" (same file) or "imported by the test".
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Sequence

from ftmigrate.threadtests.outcomes import TestVerdict


def _project_files(root: Path, verdict: TestVerdict) -> list[tuple[Path, int]]:
    """(file, line) of the failure's traceback that are Python files of the project under ``root``."""
    found = []
    for path, line in verdict.failure.locations if verdict.failure else ():
        file = Path(path)
        if file.suffix == ".py" and file.is_file() and "site-packages" not in file.parts and file.resolve().is_relative_to(root):
            found.append((file.resolve(), int(line)))
    return found


def _module_file(root: Path, module: str) -> Path | None:
    parts = module.split(".")
    for base in (root, root / "src"):
        for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return candidate.resolve()
    return None


def imported_files(root: Path, test_file: Path) -> list[Path]:
    """The project's own modules ``test_file`` imports (``import a.b``, ``from a import b``)."""
    try:
        tree = ast.parse(test_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    found = (_module_file(root, m) for m in modules)
    return list(dict.fromkeys(f for f in found if f is not None and f != test_file))


def scan_files(root: Path, files: Sequence[Path]) -> dict[Path, list]:
    """ftmigrate's findings (``scan``, the project's configuration) in ``files``, by file."""
    from ftmigrate.config import find_pyproject, load_config
    from ftmigrate.runner import SCAN, run
    from ftmigrate.selection import RuleSelection

    config = load_config(find_pyproject(root), fallback_root=root)
    report = run(list(files), RuleSelection.configured([], [], config), config, SCAN)
    return {Path(result.path).resolve(): result.findings for result in report.results}


def attach_findings(root: Path, verdicts: Sequence[TestVerdict]) -> None:
    """Fill each failing verdict's ``findings``: those on a traceback line first."""
    root = root.resolve()
    locations = {id(v): _project_files(root, v) for v in verdicts if v.failure is not None}
    imports = {}
    for verdict in verdicts:
        test_file = root / verdict.nodeid.split("::")[0]
        imports[id(verdict)] = imported_files(root, test_file.resolve()) if test_file.is_file() else []
    files = sorted({f for found in locations.values() for f, _ in found} | {f for found in imports.values() for f in found})
    if not files:
        return
    by_file = scan_files(root, files)
    for verdict in verdicts:
        found = locations.get(id(verdict), [])
        lines = set(found)
        traced = list(dict.fromkeys(file for file, _ in found))
        hits = []
        for file in traced + [f for f in imports.get(id(verdict), []) if f not in traced]:
            for finding in by_file.get(file, []):
                if file not in traced:
                    via = "imported by the test"
                elif any((file, n) in lines for n in range(finding.line, finding.end_line + 1)):
                    via = "traceback line"
                else:
                    via = "traceback"
                hits.append({
                    "rule": finding.rule, "path": file.relative_to(root).as_posix(), "line": finding.line,
                    "message": finding.message, "fixable": finding.fixable, "via": via,
                })
        verdict.findings = sorted(hits, key=lambda h: ("traceback line", "traceback", "imported by the test").index(h["via"]))
