import threading

cache_lock = threading.Lock()
cache = {}


def clear():
    with cache_lock:
        cache.clear()


def evict(key):
    with cache_lock:
        if key in cache:
            del cache[key]
