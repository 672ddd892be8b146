import threading

def memoize(load):
    cache = {}
    _cache_lock = threading.RLock()

    def get(key):
        nonlocal cache
        with _cache_lock:
            if key not in cache:
                cache[key] = load(key)
            return cache[key]

    def clear():
        nonlocal cache
        cache = {}

    return get, clear
# ftmigrate-test: unsafe-fixes
