from threading import Lock

_seen = None


def seen():
    global _seen
    if _seen is None: _seen = set()
    return _seen
