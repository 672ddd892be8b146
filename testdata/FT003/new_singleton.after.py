"""A registry that must exist once per process."""

from __future__ import annotations

import threading


class Registry:
    """The one registry."""

    _instance = None
    _instance_lock = threading.RLock()
    entries: dict[str, object] = {}

    def __new__(cls):
        # Create the instance on first use.
        if cls._instance is None:
            with cls._instance_lock:
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
        return cls._instance
