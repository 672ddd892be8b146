from __future__ import annotations

import threading

registered = set()
_registered_lock = threading.Lock()


def register(name):
    global registered
    # The first caller wins; later ones are told so.
    with _registered_lock:
        if name not in registered:  # not yet taken
            registered.add(name)
            return True
    return False


def reset():
    global registered
    registered = set()
