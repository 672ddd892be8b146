import threading

from .sync import REGISTRY_LOCK

registry = {}
sizes = {}
_sizes_lock = threading.Lock()


def register(name, size):
    with REGISTRY_LOCK:
        registry[name] = size
    with _sizes_lock:
        sizes[name] += size
