"""Which files a run looks at.

Directories are walked for ``*.py`` files, skipping virtualenvs, caches and build output,
the config's ``exclude`` patterns and whatever ``.gitignore`` files say. A file named
explicitly on the command line is always processed, as in ruff.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from ftmigrate.sourcefile import os_reason

DEFAULT_EXCLUDES = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox", "__pycache__",
        "build", "dist", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".ftmigrate_cache", ".eggs", "site-packages", "__pypackages__",
    }
)


MAX_EXAMPLES = 3


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)
    # Python files and folders left out by .gitignore or exclude patterns (not the default
    # exclusions): how many, and the first few with the rule that left each out.
    excluded: int = 0
    excluded_examples: list[tuple[Path, bool, str]] = field(default_factory=list)  # (path, is a folder, why)

    def exclude(self, path: Path, why: str, folder: bool = False) -> None:
        self.excluded += 1
        if len(self.excluded_examples) < MAX_EXAMPLES:
            self.excluded_examples.append((path, folder, why))


def _spec(lines: list[str]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(lines)


class _Ignores:
    """.gitignore files of the walked folders and of their ancestors up to the repository root."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._cache: dict[Path, pathspec.PathSpec | None] = {}

    def _load(self, folder: Path) -> pathspec.PathSpec | None:
        if folder not in self._cache:
            spec = None
            gitignore = folder / ".gitignore"
            if gitignore.is_file():
                try:
                    spec = _spec(gitignore.read_text(encoding="utf-8", errors="replace").splitlines())
                except (OSError, ValueError):
                    spec = None
            self._cache[folder] = spec
        return self._cache[folder]

    def ignored(self, path: Path, is_dir: bool) -> str | None:
        """Why ``path`` is ignored (the .gitignore and its pattern), or None."""
        if not self.enabled:
            return None
        for folder in path.parents:
            spec = self._load(folder)
            if spec is not None:
                rel = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
                check = spec.check_file(rel)
                if check.include:
                    pattern = spec.patterns[check.index].pattern if check.index is not None else rel
                    return f"pattern {pattern!r} in {folder / '.gitignore'}"
            if (folder / ".git").exists():
                break
        return None


def discover(
    paths: list[Path], *, exclude: list[str], root: Path, respect_gitignore: bool = True, force_exclude: bool = False
) -> Discovery:
    """``force_exclude``: exclusions apply to files named explicitly too (for pre-commit,
    which names every staged file, and editors)."""
    result = Discovery()
    excluded = _spec(exclude)
    ignores = _Ignores(respect_gitignore)
    root = Path(os.path.abspath(root))
    seen: set[Path] = set()

    def user_excluded(path: Path, is_dir: bool, base: Path = root) -> str | None:
        """Why ``path`` is excluded by the config's or the command line's patterns, or None."""
        if not exclude:
            return None
        try:
            rel = Path(os.path.abspath(path)).relative_to(base).as_posix()
        except ValueError:
            rel = path.as_posix()
        check = excluded.check_file(rel + ("/" if is_dir else ""))
        if not check.include:
            return None
        return f"exclude pattern {excluded.patterns[check.index].pattern!r}" if check.index is not None else "an exclude pattern"

    def excluded_file(path: Path) -> str | None:
        """Why a walk from ``root`` would skip this file (default-excluded folders, patterns,
        .gitignore), or None."""
        absolute = Path(os.path.abspath(path))
        try:
            folders = absolute.parent.relative_to(root).parts
        except ValueError:
            folders = ()
        if any(name in DEFAULT_EXCLUDES or name.endswith(".egg-info") for name in folders):
            return "a folder skipped by default"
        return user_excluded(path, False) or ignores.ignored(absolute, False)

    real_folders: dict[str, str] = {}
    by_identity: dict[str, int] = {}  # resolved path -> index in result.files

    def real_folder(folder: str) -> str:
        if folder not in real_folders:
            parent, name = os.path.split(folder)
            if parent in real_folders and not os.path.islink(folder):  # a walk's subfolder: one lstat
                real_folders[folder] = os.path.join(real_folders[parent], name)
            else:
                real_folders[folder] = os.path.realpath(folder)
        return real_folders[folder]

    def identity(absolute: Path) -> tuple[str, bool]:
        """The file's resolved path, and whether it is a link (one lstat per file and folder)."""
        folder, name = os.path.split(absolute)
        if os.path.islink(absolute):
            return os.path.realpath(absolute), True
        return os.path.join(real_folder(folder), name), False

    def add(path: Path) -> None:
        key = Path(os.path.abspath(path))
        if key in seen:
            return
        seen.add(key)
        # A link to a file the run also reaches is that file: processed once, under the
        # name that is not a link (whichever comes first otherwise).
        real, is_link = identity(key)
        if real in by_identity:
            index = by_identity[real]
            if not is_link and os.path.islink(result.files[index]):
                result.files[index] = path
            return
        by_identity[real] = len(result.files)
        result.files.append(path)

    for given in paths:
        try:
            given.stat()
        except OSError as exc:
            result.errors.append((given, os_reason(given, exc)))
            seen.add(Path(os.path.abspath(given)))  # reported once, even if a walk meets it again
            continue
        if not given.is_dir():
            why = excluded_file(given) if force_exclude else None
            if why:
                result.exclude(given, why)
            else:
                add(given)  # named explicitly: processed unless --force-exclude says otherwise
            continue
        # A folder named explicitly is walked even if excluded; then only patterns
        # matching below it count (as in ruff).
        base = Path(os.path.abspath(given)) if user_excluded(given, True) else root
        def unlistable(exc: OSError) -> None:
            folder = Path(exc.filename)
            result.errors.append((folder, f"cannot list folder: {os_reason(folder, exc)}"))

        for folder, dirnames, filenames in os.walk(given, onerror=unlistable):
            here = Path(folder)
            keep = []
            for name in sorted(dirnames):
                sub = here / name
                if name in DEFAULT_EXCLUDES or name.endswith(".egg-info") or (sub / "pyvenv.cfg").exists():
                    continue
                why = user_excluded(sub, True, base) or ignores.ignored(Path(os.path.abspath(sub)), True)
                if why:
                    result.exclude(sub, why, folder=True)
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if not name.endswith(".py"):
                    continue
                file = here / name
                absolute = Path(os.path.abspath(file))
                why = user_excluded(file, False, base) or ignores.ignored(absolute, False)
                if why:
                    result.exclude(file, why)
                    continue
                add(file)
    return result
