import threading

flags = {}
_flags_lock = threading.Lock()
owners = {}
_owners_lock = threading.RLock()


def mark(name):
    with _flags_lock:
        if not flags.get(name):
            flags[name] = True
            return True
    return False


def claim(resource, owner):
    with _owners_lock:
        if owners.get(resource) is None:
            owners[resource] = owner
        elif owners[resource] != owner:
            raise RuntimeError(f"{resource} is taken")
