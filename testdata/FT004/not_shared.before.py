import threading

_local = threading.local()
DEFAULTS = {"size": 10}


class Point:
    """Not handed to threads, no lock: belongs to one thread."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def move(self, dx, dy):
        self.x += dx
        self.y += dy


def per_thread():
    _local.depth = getattr(_local, "depth", 0) + 1
    _local.calls += 1


def local_state(items):
    totals = {}
    for item in items:
        totals[item] = totals.get(item, 0) + 1
    return totals


def shadowed(DEFAULTS):
    DEFAULTS["size"] += 1


class Builder:
    def __init__(self):
        self._lock = threading.Lock()
        self.parts = 0
        self.parts += 1  # still being built: no other thread can see it


DEFAULTS["size"] += 1  # import time: one thread
