"""Reading and writing source files without losing a byte.

Encoding (PEP 263 cookie, UTF-8 BOM) is detected the way the interpreter does it and
kept on write; line endings are kept because LibCST round-trips them untouched. Writes go
to a temporary file in the same folder that replaces the original with ``os.replace``, so a
reader (or an interrupted run) sees either the old or the new file, never a partial one.
Writes never land outside the run's tree, whatever links lead there (``ftmigrate.confine``).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import re
import secrets
import signal
import stat
import threading
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from ftmigrate.confine import (
    HAS_DIR_FD,
    NOFOLLOW,
    ConfinementError,
    locate,
    open_folder,
    recheck,
)

TEMP_SUFFIX = ".ftmigrate.tmp"  # temporary files of an unfinished write end with this


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their own endings; unlike str.splitlines, form feeds do not end a line."""
    return _LINE.findall(text)


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


def os_reason(path: Path, exc: OSError) -> str:
    """A short, plain reason for an ``OSError`` on ``path`` (no path, no errno number)."""
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        return f"dangling symbolic link (its target {os.readlink(path)} does not exist)"
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()


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
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise SourceError("is a directory")
        if not stat.S_ISREG(mode):  # a FIFO would block the run forever
            raise SourceError("not a regular file (a FIFO, socket or device)")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {os_reason(path, exc)}") from None


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _fallback_encoding(raw: bytes) -> str:
    """The encoding when ``tokenize.detect_encoding`` gave up: it decodes the cookie line
    as UTF-8 and reports everything as "invalid or missing encoding declaration"."""
    bom = raw.startswith(codecs.BOM_UTF8)
    lines = raw[len(codecs.BOM_UTF8) if bom else 0 :].splitlines()[:2]
    cookie = next(filter(None, map(_COOKIE.match, lines)), None)
    if cookie is None:
        return "utf-8"  # the default; decoding fails below, naming the byte
    name = cookie.group(1).decode("ascii", "replace")
    try:
        encoding = codecs.lookup(name).name
    except LookupError:
        raise SourceError(f"unknown encoding {name!r} in the coding declaration") from None
    if bom and encoding != "utf-8":
        raise SourceError(f"the UTF-8 byte order mark contradicts the coding declaration {name!r}")
    return encoding


def decode_source(path: Path, raw: bytes) -> SourceFile:
    if b"\x00" in raw:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        encoding = _fallback_encoding(raw)
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        if isinstance(exc, LookupError):
            raise SourceError(f"unknown encoding {encoding!r}") from None
        hint = " and there is no coding declaration (PEP 263)" if encoding == "utf-8" else ""
        raise SourceError(
            f"cannot decode as {encoding}{hint}: byte 0x{raw[exc.start]:02x} at line {_line_of(raw, exc.start)}"
        ) from None
    if text.startswith("\ufeff"):  # a BOM inside a file declared as something else
        raise SourceError("unexpected byte order mark")
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding)


def write_atomic(source: SourceFile, new_text: str, roots: Sequence[str] | None = None) -> None:
    """Replace ``source.path`` with ``new_text``; refuse if the file changed since it was read,
    or if it resolves (through symbolic links) to a place outside ``roots``, the resolved
    folders the run may write in (default: the file's own folder). See ``ftmigrate.confine``."""
    data = source.encode(new_text)
    path = source.path
    if roots is None:
        roots = (os.path.realpath(os.path.dirname(os.path.abspath(path))),)
    try:
        root, parts = locate(path, roots)
        if HAS_DIR_FD:
            with open_folder(root, parts[:-1]) as folder:
                _replace(source, data, parts[-1], folder)
        else:  # pragma: no cover - platforms without dir_fd (Windows)
            _replace(source, data, os.path.join(root, *parts), None, lambda: recheck(root, parts))
    except ConfinementError as exc:
        raise SourceError(str(exc)) from None


def _replace(source: SourceFile, data: bytes, name: str, folder: int | None, recheck_path=None) -> None:
    """Write ``data`` to a temporary file next to ``name`` (relative to the folder descriptor
    ``folder``, or a whole path when it is None) and rename it over ``name``."""
    try:
        fd = os.open(name, os.O_RDONLY | NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP and folder is not None:
            raise ConfinementError("the file became a symbolic link during the run; not written") from None
        raise SourceError(f"cannot re-read before writing: {os_reason(source.path, exc)}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        current = fh.read() if stat.S_ISREG(st.st_mode) else None
    if current != source.raw:
        raise SourceError("file changed on disk while it was processed; not written")
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise SourceError("file is read-only; not written")
    head, tail = os.path.split(name)
    tmp = os.path.join(head, f".{tail}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    with _signals_deferred():
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, stat.S_IMODE(st.st_mode), dir_fd=folder)
            try:
                os.chown(tmp, st.st_uid, st.st_gid, dir_fd=folder)
            except (PermissionError, AttributeError, NotImplementedError):
                pass
            if recheck_path is not None:
                recheck_path()
            os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=folder)
            except FileNotFoundError:
                pass
            raise


_DEFERRED_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)}


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold back Ctrl-C and termination signals while a temporary file exists, so an
    interrupted run leaves neither a temporary file nor a half-replaced one; the signal
    is delivered as soon as the write is complete.

    Python-level handlers, not a signal mask: a mask is per thread, and a process with
    other threads (a progress bar's refresh thread) could still take the signal and have
    the main thread interrupted mid-write. Python runs every handler in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {}
    for sig in _DEFERRED_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, lambda signum, frame: pending.append(signum))
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for signum in pending:
            signal.raise_signal(signum)
