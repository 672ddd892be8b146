#!/usr/bin/env python3
"""The labelled corpus of public libraries: where it lives, how to get it, what is library code.

    python scripts/corpus.py fetch                 # download + check + unpack the pinned sdists
    python scripts/corpus.py shapes [--per-shape N] [--seed S] [--scope S]  # recall-set candidates (plain ast)
    python scripts/corpus.py sample [--per-rule N] [--seed S] [--findings FILE]  # random sample of scan findings

``benchmarks/corpus/libraries.toml`` pins each library (name, version, sdist file name,
sha256); ``benchmarks/corpus/labels.jsonl`` holds one judged site a line. No third-party code
is stored in the repository: the sdists are downloaded with pip into
``~/.cache/ftmigrate/sdists`` and unpacked into ``~/.cache/ftmigrate/corpus``.
``shapes`` and ``sample`` print JSON lines of sites still to judge (those not labelled yet).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.realworld.libraries import sdist_path  # noqa: E402

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO / "benchmarks" / "corpus"
LIBRARIES_FILE = CORPUS_DIR / "libraries.toml"
LABELS_FILE = CORPUS_DIR / "labels.jsonl"
CACHE = Path(os.environ.get("FTMIGRATE_CACHE", Path.home() / ".cache" / "ftmigrate"))
UNPACKED = CACHE / "corpus"

# Path parts and file names that are not library code: tests, docs, examples, build scripts.
NON_LIBRARY_PARTS = frozenset(
    {"tests", "test", "testing", "t", "docs", "doc", "examples", "example", "benchmarks", "bench", "extra",
     "scripts", "dummyserver", "tools"}
)
NON_LIBRARY_FILES = frozenset({"conftest.py", "setup.py", "noxfile.py", "tasks.py", "fabfile.py"})


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    sdist: str
    sha256: str

    @property
    def root(self) -> Path:
        """The unpacked sdist's top folder: label paths are relative to it."""
        return UNPACKED / f"{self.name}-{self.version}"


def load_libraries(path: Path = LIBRARIES_FILE) -> list[Library]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return [Library(**entry) for entry in data["library"]]


def is_library_code(path: str) -> bool:
    """True for a path inside an sdist that is shipped library code (not tests, docs, examples)."""
    parts = path.split("/")
    name = parts[-1]
    if name in NON_LIBRARY_FILES or name.startswith("test_") or name.endswith("_test.py"):
        return False
    return not any(part in NON_LIBRARY_PARTS for part in parts[:-1])


def fetch(library: Library) -> Path:
    """Download (if missing), check the sha256 of, and unpack one sdist; return its root."""
    archive = sdist_path(library)  # the real-code harness's download and sha256 check
    if not library.root.exists():
        unpack(archive, library.root)
    return library.root


def unpack(archive: Path, root: Path) -> None:
    """Unpack the archive's single top folder as ``root`` (only regular files inside it)."""
    staging = root.with_name(root.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            members = [(info.filename, zf.read(info)) for info in zf.infolist() if not info.is_dir()]
    else:
        with tarfile.open(archive) as tf:
            members = [(m.name, tf.extractfile(m).read()) for m in tf.getmembers() if m.isfile()]
    for name, data in members:
        inner = name.split("/", 1)[1] if "/" in name else name
        target = (staging / inner).resolve()
        if staging.resolve() not in target.parents:
            continue  # an absolute or ../ member: never written outside the folder
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    staging.rename(root)


def library_files(library: Library) -> list[str]:
    """The library-code ``.py`` files of an unpacked sdist, as paths relative to its root."""
    root = library.root
    return sorted(
        rel for rel in (p.relative_to(root).as_posix() for p in root.rglob("*.py")) if is_library_code(rel)
    )


def read_labels(path: Path = LABELS_FILE) -> list[dict]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def excerpt_of(root: Path, path: str, line: int) -> str:
    """The stripped source line, at most 120 characters: what a label stores to re-anchor."""
    lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    return lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""


def stratified_sample(items: list[dict], key: str, per_group: int, seed: int) -> list[dict]:
    """Up to ``per_group`` items of each ``item[key]`` group, drawn with a fixed seed."""
    rng = random.Random(seed)
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(item[key], []).append(item)
    chosen = []
    for name in sorted(groups):
        group = groups[name]
        chosen.extend(rng.sample(group, min(per_group, len(group))))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch", "shapes", "sample"])
    parser.add_argument("--per-shape", type=int, default=10)
    parser.add_argument("--per-rule", type=int, default=25)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--scope", help="(shapes) only sites of this scope (shared-name or bound), all of them")
    parser.add_argument("--findings", type=Path, help="(sample) a JSON list saved by precision.py --save-findings")
    args = parser.parse_args(argv)
    libraries = load_libraries()
    for library in libraries:
        fetch(library)
    if args.command == "fetch":
        print(f"{len(libraries)} libraries under {UNPACKED}")
        return 0
    labelled = {(lb["library"], lb["path"], lb["line"]) for lb in read_labels()}
    if args.command == "shapes":
        sys.path.insert(0, str(Path(__file__).parent))
        from find_shapes import find_shapes

        sites = [s for lib in libraries for s in find_shapes(lib)]
        if args.scope:
            chosen = [s for s in sites if s["scope"] == args.scope]
        else:
            chosen = stratified_sample(sites, "shape", args.per_shape, args.seed)
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from precision import scan_library

        scanned = json.loads(args.findings.read_text()) if args.findings else [
            f for lib in libraries for f in scan_library(lib)
        ]
        findings = [f for f in scanned if is_library_code(f["path"])]
        chosen = stratified_sample(findings, "rule", args.per_rule, args.seed)
    for site in chosen:
        if (site["library"], site["path"], site["line"]) not in labelled:
            print(json.dumps(site))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
