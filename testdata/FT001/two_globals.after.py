import threading

hits = 0
_hits_misses_lock = threading.Lock()
misses = 0


def record(found):
    global hits, misses
    if found:
        with _hits_misses_lock:
            hits += 1
    else:
        with _hits_misses_lock:
            misses += 1
