"""The pinned libraries of ``libraries.toml``: download (pip, cached), verify, unpack."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

MANIFEST = Path(__file__).with_name("libraries.toml")
CACHE = Path.home() / ".cache" / "ftmigrate"
SDISTS = CACHE / "sdists"


@dataclass(frozen=True)
class Suite:
    """How to run a library's own tests against one copy of its source."""

    imports: tuple[str, ...]
    path: str
    install: tuple[str, ...]
    args: tuple[str, ...]
    subset: str


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    sdist: str
    sha256: str
    suite: Suite | None = None
    smoke: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.name}-{self.version}"


def load(manifest: Path = MANIFEST) -> list[Library]:
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    libraries = []
    for entry in data["library"]:
        suite = entry.get("suite")
        libraries.append(
            Library(
                name=entry["name"],
                version=entry["version"],
                sdist=entry["sdist"],
                sha256=entry["sha256"],
                smoke=tuple(entry.get("smoke", ())),
                suite=None
                if suite is None
                else Suite(
                    imports=tuple(suite["import"]),
                    path=suite["path"],
                    install=tuple(suite["install"]),
                    args=tuple(suite["args"]),
                    subset=suite["subset"],
                ),
            )
        )
    return libraries


def select(libraries: list[Library], names: list[str] | None) -> list[Library]:
    if not names:
        return libraries
    known = {library.name: library for library in libraries}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown libraries: {', '.join(unknown)} (see {MANIFEST})")
    return [known[name] for name in names]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sdist_path(library: Library) -> Path:
    """The verified sdist, downloaded with pip into the cache the first time."""
    path = SDISTS / library.sdist
    if not path.exists():
        SDISTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"{library.name}=={library.version}", "-d", str(SDISTS)],
            check=True,
        )
    if not path.exists():
        raise RuntimeError(f"pip did not fetch {library.sdist}")
    actual = sha256_of(path)
    if actual != library.sha256:
        raise RuntimeError(f"{library.sdist}: sha256 {actual}, expected {library.sha256}")
    return path


def unpack(library: Library, destination: Path) -> Path:
    """A fresh copy of the sdist's source tree at ``destination`` (replaced if present)."""
    archive = sdist_path(library)
    if destination.exists():
        shutil.rmtree(destination)
    staging = destination.with_name(destination.name + ".unpacking")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(staging)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(staging, filter="data")
    (top,) = staging.iterdir()  # an sdist holds one folder, NAME-VERSION/
    top.rename(destination)
    staging.rmdir()
    return destination
