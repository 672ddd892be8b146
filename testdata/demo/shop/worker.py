"""Worker threads of the demo shop."""

import threading
from concurrent.futures import ThreadPoolExecutor

from . import stats

orders = 0
_orders_guard = threading.Lock()


def place_order(item):
    global orders
    with _orders_guard:  # already safe: not reported
        orders += 1
    stats.record(len(item))


async def stream(chunks):
    global orders
    orders += await chunks.count()  # awaits: reported, never auto-fixed


def serve(items):
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(place_order, items))
