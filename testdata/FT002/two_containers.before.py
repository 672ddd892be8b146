"""Two dicts kept inverse to each other: both change under one lock."""
_forward = {}
_inverse = {}


def add(key, code):
    if _forward.get(key) == code and _inverse.get(code) == key:
        return
    if key in _forward:
        raise ValueError("key taken")
    _forward[key] = code
    _inverse[code] = key


def remove(key, code):
    if _forward.get(key) != code or _inverse.get(code) != key:
        raise ValueError("not registered")
    del _forward[key]
    del _inverse[code]
