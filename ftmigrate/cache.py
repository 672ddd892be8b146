"""A content-addressed cache of per-file results, in ``.ftmigrate_cache/`` at the project root.

An entry holds what checking one file found (findings and per-file errors). Its key
hashes the file's bytes and its path below the project root; the entries of one run live
in a folder named by a hash of everything else that shapes a result: the schema, the
tool itself (version, Python, LibCST, and the size and mtime of each of ftmigrate's own
source files, so an edited rule never meets stale results), the rule selection, the
config options that matter and whether prefilters run. A changed file gets a new key, so
a stale entry is never used; nothing needs invalidating.

Concurrent runs are safe: an entry is written to a temporary file and renamed into
place, so a reader sees a whole entry or none; an entry that cannot be read or decoded
is ignored (a miss). Writing is best effort: a read-only project just runs uncached.
The folder holds a ``.gitignore`` of ``*`` so git ignores it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

from ftmigrate import __version__
from ftmigrate.results import FileResult, Finding
from ftmigrate.sourcefile import relative_posix

CACHE_DIR = ".ftmigrate_cache"
SCHEMA = 2
_PACKAGES = ("ftmigrate", "codemods")
# Finding fields kept in an entry (the path is the reader's, ``fixed`` is always False).
_FIELDS = (
    "rule", "line", "column", "end_line", "end_column", "message", "fixable", "unfixable_reason", "confidence",
    "confidence_reason", "fix_safety", "unsafe_reason",
)


def tool_fingerprint() -> list:
    """What identifies the code producing results: changes whenever that code may have."""
    here = Path(__file__).resolve().parent.parent
    files = []
    for package in _PACKAGES:
        folder = here / package
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))
        except OSError:
            continue
        for name in names:
            st = os.stat(folder / name)
            files.append((f"{package}/{name}", st.st_size, st.st_mtime_ns))
    spec = importlib.util.find_spec("libcst")
    libcst_origin = spec.origin if spec is not None and spec.origin else ""
    libcst_mtime = os.stat(libcst_origin).st_mtime_ns if libcst_origin else 0
    return [__version__, sys.version, libcst_origin, libcst_mtime, files]


class Cache:
    """Entries for one set of settings below ``root``'s ``.ftmigrate_cache/``."""

    def __init__(self, root: Path, settings: object, kind: str | None = None) -> None:
        """``kind``: a subfolder for entries other than file results (``"index"``: the
        project index's facts, ``ftmigrate.project_index``)."""
        self.root = Path(os.path.abspath(root))
        self.base = self.root / CACHE_DIR
        blob = json.dumps([SCHEMA, tool_fingerprint(), settings], sort_keys=True, default=str)
        digest = hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()
        self.folder = self.base / kind / digest if kind else self.base / digest
        self._folder_name = str(self.folder)
        self._made: set[str] = set()

    # --- keys and entries -------------------------------------------------------------
    def key(self, path: Path, data: bytes) -> str:
        absolute = os.path.abspath(path)
        name = relative_posix(absolute, str(self.root)) or Path(absolute).as_posix()
        digest = hashlib.blake2b(name.encode("utf-8", "surrogateescape") + b"\0", digest_size=20)
        digest.update(data)
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return Path(self._entry_name(key))

    def _entry_name(self, key: str) -> str:
        return os.path.join(self._folder_name, key[:2], key[2:])  # a str: pathlib costs per file

    def load(self, key: str, path: Path, display: str) -> FileResult | None:
        """The cached result of ``path`` (findings shown as ``display``), None on a miss."""
        try:
            with open(self._entry_name(key), "rb") as fh:
                data = json.loads(fh.read())
            findings = [Finding(path=display, **dict(zip(_FIELDS, item, strict=True))) for item in data["findings"]]
            error, checked = data["error"], data["checked"]
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing, half-written by a crashed tool, or not ours: a miss
        if not (_optional_str(error) and isinstance(checked, bool) and all(map(_well_typed, findings))):
            return None
        return FileResult(path=path, findings=findings, error=error, checked=checked)

    def store(self, key: str, result: FileResult) -> None:
        """Remember ``result`` (a scan's, or an apply's that needed no rewrite)."""
        data = {
            "checked": result.checked,
            "error": result.error,
            "findings": [[getattr(f, name) for name in _FIELDS] for f in result.findings],
        }
        self._write(key, json.dumps(data, separators=(",", ":")))

    def load_json(self, key: str) -> dict | None:
        """A plain entry stored by ``store_json`` (project index facts), None on a miss."""
        try:
            with open(self._entry_name(key), "rb") as fh:
                data = json.loads(fh.read())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def store_json(self, key: str, data: dict) -> None:
        self._write(key, json.dumps(data, separators=(",", ":")))

    def _write(self, key: str, text: str) -> None:
        target = self._entry(key)
        try:
            self._make_folder(target.parent)
            tmp = target.parent / f".{key[2:]}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only or full disk only costs speed

    def _make_folder(self, folder: Path) -> None:
        if folder.name in self._made:
            return
        if os.path.realpath(self.base) != os.path.join(os.path.realpath(self.root), CACHE_DIR):
            # A repository's own `.ftmigrate_cache` link must not make us write elsewhere.
            raise OSError(f"{self.base} is a symbolic link; not cached")
        if not self.base.is_dir():
            self.base.mkdir(parents=True, exist_ok=True)
            _write_once(self.base / ".gitignore", "# Created by ftmigrate; the whole folder is a cache.\n*\n")
            _write_once(
                self.base / "CACHEDIR.TAG",
                "Signature: 8a477f597d28d172789f06886806bc55\n# ftmigrate's cache: https://bford.info/cachedir/\n",
            )
        current = self.base
        for part in folder.relative_to(self.base).parts:
            current = current / part
            if os.path.islink(current):  # a link below `.ftmigrate_cache` (a committed `index` link) likewise
                raise OSError(f"{current} is a symbolic link; not cached")
            current.mkdir(exist_ok=True)
        self._made.add(folder.name)


def _optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _well_typed(f: Finding) -> bool:
    numbers = (f.line, f.column, f.end_line, f.end_column)
    return (
        isinstance(f.rule, str) and isinstance(f.message, str) and isinstance(f.fixable, bool)
        and all(type(n) is int for n in numbers) and _optional_str(f.unfixable_reason)
        and _optional_str(f.confidence) and _optional_str(f.confidence_reason)
        and f.fix_safety in (None, "safe", "unsafe") and _optional_str(f.unsafe_reason)
    )


def _write_once(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
