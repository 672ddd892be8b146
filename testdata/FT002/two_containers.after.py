"""Two dicts kept inverse to each other: both change under one lock."""
import threading

_forward = {}
_inverse = {}
_forward_inverse_lock = threading.RLock()


def add(key, code):
    with _forward_inverse_lock:
        if _forward.get(key) == code and _inverse.get(code) == key:
            return
        if key in _forward:
            raise ValueError("key taken")
        _forward[key] = code
        _inverse[code] = key


def remove(key, code):
    with _forward_inverse_lock:
        if _forward.get(key) != code or _inverse.get(code) != key:
            raise ValueError("not registered")
        del _forward[key]
        del _inverse[code]
