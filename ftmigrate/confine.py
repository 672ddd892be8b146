"""Writes stay inside the project tree, whatever symbolic links a repository holds.

A run may write only below its *roots*: the project root (the folder of the config file)
for the paths named below it, otherwise each named folder itself (a named file: its
folder). Without a config file there is no project root: from ``/``, ``apply /tmp/proj``
still writes only inside ``/tmp/proj``. A file whose resolved path leaves every root, through a file link, a folder link
or a chain of them, is left alone with the reason. The check cannot be raced by swapping
a link between check and write: the write opens every folder from the root down without
following links (``O_NOFOLLOW``, one folder descriptor after the other) and creates and
renames the file relative to the last one, so a folder replaced by a link makes the write
fail instead of following it; a final component replaced by a link is itself replaced
(rename does not follow it), which stays inside the tree.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Iterator, Sequence

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Folder descriptors need dir_fd support (Linux, macOS, BSD); elsewhere the resolved path is
# checked again right before the rename.
HAS_DIR_FD = NOFOLLOW != 0 and {os.open, os.rename, os.chmod, os.unlink} <= os.supports_dir_fd


class ConfinementError(Exception):
    """The file may not be written where it would land; the message says why (no path first)."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def tree_roots(paths: Sequence[Path], project_root: Path | None) -> tuple[str, ...]:
    """The resolved folders a run over ``paths`` may write in: the project root (the config
    file's folder, if any) for the paths named below it, else what ``_bound`` says."""
    project = os.path.abspath(project_root) if project_root is not None else None
    roots: list[str] = []
    for path in paths:
        if project is not None and _inside(os.path.abspath(path), project):
            root = os.path.realpath(project)
        else:
            root = _bound(path)
        if root not in roots:
            roots.append(root)
    return tuple(roots)


def _bound(path: Path) -> str:
    """The resolved folder a path named on the command line bounds: the folder itself (a
    file: its folder), but never reached through a link below the working directory
    (`vendor/sub` with `vendor` a link is bounded by the working directory). A path named
    outside the working directory is taken as given."""
    absolute = os.path.abspath(path)
    folder = absolute if os.path.isdir(absolute) and not os.path.islink(absolute) else os.path.dirname(absolute)
    cwd = os.getcwd()
    if not _inside(folder, cwd):
        return os.path.realpath(folder)
    bound = cwd
    relative = os.path.relpath(folder, cwd)
    for part in [] if relative == "." else relative.split(os.sep):
        step = os.path.join(bound, part)
        if os.path.islink(step):
            break
        bound = step
    return os.path.realpath(bound)


def locate(path: Path | str, roots: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The root a write of ``path`` lands below and the resolved parts below it;
    ConfinementError if its resolved path leaves every root."""
    real = os.path.realpath(path)
    for root in roots:
        if _inside(real, root) and real != root:
            return root, tuple(Path(real).relative_to(root).parts)
    where = " or ".join(roots) or "the project"
    via = "a symbolic link" if real != os.path.abspath(path) else "its path"
    raise ConfinementError(f"resolves through {via} to {real}, outside the project tree {where}; not written")


@contextlib.contextmanager
def open_folder(root: str, parts: Sequence[str]) -> Iterator[int]:
    """A descriptor of ``root/parts...``, each folder opened without following links."""
    fd = os.open(root, os.O_RDONLY | _DIRECTORY)
    try:
        for part in parts:
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise ConfinementError(f"the folder {part!r} became a symbolic link during the run; not written") from None
                raise
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def recheck(root: str, parts: Sequence[str]) -> None:
    """Without folder descriptors: the path must still resolve to itself below ``root``."""
    expected = os.path.join(root, *parts)
    if os.path.realpath(os.path.dirname(expected)) != os.path.dirname(expected):
        raise ConfinementError("a folder on the way became a symbolic link during the run; not written")
