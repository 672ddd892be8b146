from threading import Lock

_seen = None
_seen_lock = Lock()


def seen():
    global _seen
    if _seen is None:
        with _seen_lock:
            if _seen is None: _seen = set()
    return _seen
