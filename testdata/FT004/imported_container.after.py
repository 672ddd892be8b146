"""Counters live in .state; this module only updates them."""

from .state import stats
import threading

_stats_lock = threading.Lock()


def hit(key):
    with _stats_lock:
        stats[key] += 1
