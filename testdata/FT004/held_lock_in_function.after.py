import threading

from .sync import REGISTRY_LOCK

registry = {}
sizes = {}


def register(name, size):
    with REGISTRY_LOCK:
        registry[name] = size
    with REGISTRY_LOCK:
        sizes[name] += size
