"""A repository's files in the output folder: DIR/<name>.json, DIR/<name>.patch (or .diff),
DIR/<name>.verify.json and .verify.md (``--verify``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ftmigrate.batch.model import RepoResult

ARTIFACT_SUFFIXES = (".patch", ".diff", ".verify.json", ".verify.md")


def write_atomic(path: Path, data: bytes) -> None:
    """Readers (and ``--resume`` after a crash) see the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_path(output: Path, name: str) -> Path:
    return output / f"{name}.json"


def save_result(output: Path, result: RepoResult) -> None:
    write_atomic(result_path(output, result.name), json.dumps(result.to_dict(), indent=2).encode("utf-8") + b"\n")


def load_result(output: Path, name: str) -> RepoResult | None:
    try:
        return RepoResult.from_dict(json.loads(result_path(output, name).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def clear_artifacts(output: Path, name: str) -> None:
    """Before a repository is redone: its patch or diff from an earlier run would be stale."""
    for suffix in ARTIFACT_SUFFIXES:
        (output / f"{name}{suffix}").unlink(missing_ok=True)


def save_artifact(output: Path, name: str, suffix: str, data: bytes) -> str:
    path = output / f"{name}{suffix}"
    write_atomic(path, data)
    return path.name
