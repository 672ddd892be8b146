#!/usr/bin/env python3
"""Module docstring stays first; `import threading` goes after the __future__ import."""
from __future__ import annotations

import threading

seen: int = 0
_seen_lock = threading.Lock()


def see() -> None:
    global seen
    # count it
    with _seen_lock:
        seen += 1  # trailing comment stays
