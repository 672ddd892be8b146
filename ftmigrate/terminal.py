"""Is the user looking at a terminal? Decides colour and the progress bar.

``FORCE_COLOR`` (set and not ``0``) treats any stream as a terminal, as rich and many other
tools do; ``NO_COLOR`` (set and not empty, https://no-color.org) turns colour off even then.
"""

from __future__ import annotations

import os
import re
from typing import IO

RESET, BOLD, RED, GREEN, CYAN = "\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[36m"


def _forced() -> bool:
    return os.environ.get("FORCE_COLOR", "") not in ("", "0")


def is_terminal(stream: IO) -> bool:
    if _forced():
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def wants_color(stream: IO) -> bool:
    return not os.environ.get("NO_COLOR") and is_terminal(stream)


_DIFF_LINE = re.compile(rb"[^\n]*\n|[^\n]+\Z")
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def _paint(line: bytes, colour: str) -> bytes:
    """Colour a line but not its line ending, so CRLF files keep their bytes around the codes."""
    body = line.rstrip(b"\r\n")
    return colour.encode() + body + RESET.encode() + line[len(body) :]


def colorize_diff(diff: bytes) -> bytes:
    """A unified diff with ANSI colours: file headers bold, hunk headers cyan, removed lines
    red, added lines green. Hunk line counts are followed, so a removed line whose text
    starts with ``-- `` is never mistaken for a file header."""
    out = []
    old_left = new_left = 0
    for line in _DIFF_LINE.findall(diff):
        if old_left > 0 or new_left > 0:
            if line.startswith(b"-"):
                old_left -= 1
                out.append(_paint(line, RED))
            elif line.startswith(b"+"):
                new_left -= 1
                out.append(_paint(line, GREEN))
            else:
                if line.startswith(b" "):
                    old_left, new_left = old_left - 1, new_left - 1
                out.append(line)
            continue
        hunk = _HUNK.match(line)
        if hunk:
            old_left = int(hunk.group(1) or 1)
            new_left = int(hunk.group(2) or 1)
            out.append(_paint(line, CYAN))
        elif line.startswith((b"--- ", b"+++ ")):
            out.append(_paint(line, BOLD))
        else:  # "\ No newline at end of file"
            out.append(line)
    return b"".join(out)
