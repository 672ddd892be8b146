from __future__ import annotations

registered = set()


def register(name):
    global registered
    # The first caller wins; later ones are told so.
    if name not in registered:  # not yet taken
        registered.add(name)
        return True
    return False


def reset():
    global registered
    registered = set()
