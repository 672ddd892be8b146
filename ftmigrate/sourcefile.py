"""Reading and writing source files without losing a byte.

Encoding (PEP 263 cookie, UTF-8 BOM) is detected the way the interpreter does it and
kept on write; line endings are kept because LibCST round-trips them untouched. Writes go
to a temporary file in the same folder that replaces the original with ``os.replace``, so a
reader (or an interrupted run) sees either the old or the new file, never a partial one.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """A file that cannot be processed; the message names the reason, not the path."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    raw: bytes
    text: str
    encoding: str  # as returned by tokenize.detect_encoding, e.g. "utf-8-sig", "iso-8859-1"

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def relative_posix(path: str | os.PathLike, base: str) -> str | None:
    """``path`` relative to the folder ``base``, with forward slashes; None if it is not
    below it. Lexical, like ``PurePath.relative_to`` (give both absolute), but several
    times faster, which shows for every file of a large tree."""
    path = os.fspath(path)
    if os.path.normcase(path) == os.path.normcase(base):
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not os.path.normcase(path).startswith(os.path.normcase(prefix)):
        return None
    return path[len(prefix) :].replace(os.sep, "/")


def read_source(path: Path) -> SourceFile:
    return decode_source(path, read_bytes(path))


def read_bytes(path: Path) -> bytes:
    """The file's bytes; SourceError with a short reason if it cannot be read."""
    try:
        if path.is_dir():
            raise SourceError("is a directory")
        return path.read_bytes()
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None


def decode_source(path: Path, raw: bytes) -> SourceFile:
    if b"\x00" in raw:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError(f"bad encoding declaration: {exc.msg}") from None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
        raise SourceError(f"cannot decode as {encoding}{where}: {reason}") from None
    if text.startswith("\ufeff"):  # a BOM inside a file declared as something else
        raise SourceError("unexpected byte order mark")
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding)


def write_atomic(source: SourceFile, new_text: str) -> None:
    """Replace ``source.path`` with ``new_text``; refuse if the file changed since it was read."""
    data = source.encode(new_text)
    path = source.path
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot re-read before writing: {exc.strerror or exc}") from None
    if current != source.raw:
        raise SourceError("file changed on disk while it was processed; not written")
    target = Path(os.path.realpath(path))  # write through symlinks, keep the link itself
    st = target.stat()
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise SourceError("file is read-only; not written")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".ftmigrate.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except (PermissionError, AttributeError):
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
