import threading

cache_lock = threading.Lock()
cache = {}


def clear():
    with cache_lock:
        cache.clear()


def evict(key):
    if key in cache:
        del cache[key]
