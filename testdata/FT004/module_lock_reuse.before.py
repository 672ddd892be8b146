import threading

stats = {}
_stats_guard = threading.Lock()


def hit(key):
    with _stats_guard:
        stats[key] += 1


def miss(key):
    stats[key] -= 1


def drain(key):
    _stats_guard.acquire()
    try:
        stats[key] *= 0
    finally:
        _stats_guard.release()
