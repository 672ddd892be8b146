"""Counters live in .state; this module only updates them."""

import threading

from .state import stats

_stats_lock = threading.Lock()


def hit(key):
    with _stats_lock:
        stats[key] += 1
