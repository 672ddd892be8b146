"""Helpers the test modules share: run rules on source text the way `apply` does."""

from __future__ import annotations

import textwrap
from pathlib import Path

from codemods import select_rules
from ftmigrate.engine import FileResult, check_source
from ftmigrate.sourcefile import decode_source


def check_text(code: str, *, fix: bool, select: list[str] | None = None, shared_classes=(), unsafe_fixes: bool = False) -> FileResult:
    source = decode_source(Path("example.py"), code.encode("utf-8"))
    rules = select_rules(select, [])
    return check_source(source, rules, fix=fix, display="example.py", shared_classes=shared_classes, unsafe_fixes=unsafe_fixes)


def fixed_text(code: str, select: list[str] | None = None, shared_classes=(), unsafe_fixes: bool = False) -> str:
    """The text `apply` (`--unsafe-fixes` with ``unsafe_fixes``) would write (the input
    itself when nothing changes); errors fail."""
    result = check_text(code, fix=True, select=select, shared_classes=shared_classes, unsafe_fixes=unsafe_fixes)
    assert result.error is None, result.error
    return result.new_text if result.new_text is not None else code


def graded(code: str, path: str = "pkg/mod.py") -> list[tuple[str, int, str, str]]:
    """(rule, line, confidence, its reason) of every finding of dedented ``code`` at any level."""
    source = decode_source(Path(path), textwrap.dedent(code).encode())
    result = check_source(source, select_rules(None, []), fix=False, display=path, min_confidence="low")
    assert result.error is None, result.error
    return [(f.rule, f.line, f.confidence, f.confidence_reason) for f in result.findings]


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> dedented text) under ``root``; returns ``root``."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def load_script(name: str):
    """A module of scripts/ (not a package), imported by path."""
    import importlib.util
    import sys

    from tests.conftest import REPO

    module_name = f"ftmigrate_script_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, REPO / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]
