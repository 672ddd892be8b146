def memoize(load):
    cache = {}

    def get(key):
        nonlocal cache
        if key not in cache:
            cache[key] = load(key)
        return cache[key]

    def clear():
        nonlocal cache
        cache = {}

    return get, clear
# ftmigrate-test: unsafe-fixes
