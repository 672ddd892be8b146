#!/usr/bin/env python3
"""Module docstring stays first; `import threading` goes after the __future__ import."""
from __future__ import annotations

seen: int = 0


def see() -> None:
    global seen
    # count it
    seen += 1  # trailing comment stays
