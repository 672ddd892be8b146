import threading

_lock = threading.Lock()
seen = []


def remember(item):
    with _lock:
        if item not in seen:
            seen.append(item)


def forget(item):
    _lock.acquire()
    try:
        if item in seen:
            seen.remove(item)
    finally:
        _lock.release()
