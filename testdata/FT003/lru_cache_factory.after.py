import functools
from functools import lru_cache


@functools.lru_cache(maxsize=None)
def get_settings():
    return load_settings()


@lru_cache
def get_pool():
    return make_pool()


@lru_cache(maxsize=128)
def lookup(key):
    return fetch(key)
