"""Product catalog of the demo shop: a cache, a singleton client and per-item counters."""

import time

prices = {}
views = {}


def price(item):
    if item not in prices:
        prices[item] = fetch_price(item)
    return prices[item]


def fetch_price(item):
    time.sleep(0.001)
    return len(item) * 100


def record_view(item):
    views[item] = views.get(item, 0) + 1


class Client:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance
