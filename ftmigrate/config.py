"""``[tool.ftmigrate]`` in the nearest ``pyproject.toml``; command-line options override it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


# ftmigrate.confidence's levels (kept here too: the config loads without LibCST).
CONFIDENCE_LEVELS = ("low", "medium", "high")
DEFAULT_MIN_CONFIDENCE = "medium"


class ConfigError(Exception):
    """Invalid configuration or options: reported as a usage error (exit 2)."""


# key -> (type, help); the README's config table lists the same keys.
KNOWN_KEYS = {
    "select": "rule codes or prefixes to enable (default: all)",
    "ignore": "rule codes or prefixes to disable",
    "exclude": "glob patterns of paths to skip, relative to the config's folder",
    "extend-exclude": "more patterns, added to `exclude`",
    "respect-gitignore": "skip files matched by .gitignore (default: true)",
    "shared-classes": "class names whose instances are shared between threads (FT004/FT003)",
    "unsafe-fixes": "also apply fixes that can change behaviour (default: false), as `--unsafe-fixes`",
    "min-confidence": "report (and fix) findings of at least this confidence: low, medium (default) or high",
}
_LIST_KEYS = {"select", "ignore", "exclude", "extend-exclude", "shared-classes"}


@dataclass
class Config:
    root: Path
    path: Path | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    shared_classes: list[str] = field(default_factory=list)
    unsafe_fixes: bool = False
    min_confidence: str = DEFAULT_MIN_CONFIDENCE
    # Set by a run (ftmigrate.runner): absolute path -> what the project says about that
    # file (``ProjectIndex.evidence``: functions threads run, import-time-only functions,
    # thread-lock makers).
    thread_evidence: dict = field(default_factory=dict)

    def analysis_options(self) -> dict:
        """What the configuration tells the engine about every file (``check_source``'s
        keyword arguments): shared classes, the least confidence reported, which functions
        the project says about each file (thread evidence), and whether unsafe fixes are planned too."""
        return {
            "shared_classes": tuple(self.shared_classes), "min_confidence": self.min_confidence,
            "thread_evidence": self.thread_evidence, "unsafe_fixes": self.unsafe_fixes,
        }


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.ftmigrate] table, from ``start`` upwards."""
    try:
        start = start.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reported per file later, not here
        start = Path(os.path.abspath(start))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                # A broken file only matters if it is ours to read: report it below.
                if "[tool.ftmigrate" in pyproject.read_text(encoding="utf-8", errors="replace"):
                    return pyproject
                continue
            if "ftmigrate" in data.get("tool", {}):
                return pyproject
    return None


def load_config(path: Path | None, *, fallback_root: Path) -> Config:
    if path is None:
        return Config(root=Path(os.path.abspath(fallback_root)))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("ftmigrate", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.ftmigrate] must be a table")
    config = Config(root=Path(os.path.abspath(path.parent)), path=path)
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ConfigError(f"{path}: unknown key {key!r} in [tool.ftmigrate] (known: {known})")
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: [tool.ftmigrate] {key} must be a list of strings")
        elif key == "min-confidence":
            if value not in CONFIDENCE_LEVELS:
                raise ConfigError(f"{path}: [tool.ftmigrate] min-confidence must be one of {', '.join(CONFIDENCE_LEVELS)}")
        elif not isinstance(value, bool):
            raise ConfigError(f"{path}: [tool.ftmigrate] {key} must be true or false")
    config.select = table.get("select")
    config.ignore = list(table.get("ignore", []))
    config.exclude = list(table.get("exclude", [])) + list(table.get("extend-exclude", []))
    config.respect_gitignore = table.get("respect-gitignore", True)
    config.shared_classes = list(table.get("shared-classes", []))
    config.unsafe_fixes = table.get("unsafe-fixes", False)
    config.min_confidence = table.get("min-confidence", DEFAULT_MIN_CONFIDENCE)
    return config
