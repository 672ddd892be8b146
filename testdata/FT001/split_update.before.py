"""An update split over adjacent statements is locked from its first read to its write."""

import logging

log = logging.getLogger(__name__)

counter = 0
total = 0


def take():
    global counter
    old = counter
    counter += 1
    return old


def bump():
    global counter
    x = counter
    counter = x + 1


def add(items):
    global total
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
    total += step
    return before
