"""An update split over adjacent statements is locked from its first read to its write."""

import logging
import threading

log = logging.getLogger(__name__)

counter = 0
_counter_lock = threading.Lock()
total = 0
_total_lock = threading.Lock()


def take():
    global counter
    with _counter_lock:
        old = counter
        counter += 1
    return old


def bump():
    global counter
    with _counter_lock:
        x = counter
        counter = x + 1


def add(items):
    global total
    with _total_lock:
        n = total
        size = len(items)
        n += size
        total = n


def add_logged(step):
    # Not adjacent: the call in between ends the update's span (it would run under the
    # lock); the increment is made atomic, the earlier read is not part of it.
    global total
    before = total
    log.debug("adding %s", step)
    with _total_lock:
        total += step
    return before
