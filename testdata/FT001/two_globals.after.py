import threading

hits = 0
misses = 0
_record_lock = threading.Lock()


def record(found):
    global hits, misses
    if found:
        with _record_lock:
            hits += 1
    else:
        with _record_lock:
            misses += 1
