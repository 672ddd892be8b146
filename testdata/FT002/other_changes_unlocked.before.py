"""Like cachetools' FIFOCache: the container is also changed, unlocked, in other methods.

A lock around the test in __setitem__ alone would leave __delitem__ and clear() racing
with it, so the finding is reported without a fix (with the lines that change it).
"""

import collections
import threading


class FIFOCache:
    def __init__(self):
        self._lock = threading.Lock()
        self.__order = collections.OrderedDict()

    def __setitem__(self, key, value):
        if key in self.__order:
            self.__order.move_to_end(key)
        else:
            self.__order[key] = value

    def __delitem__(self, key):
        del self.__order[key]

    def clear(self):
        self.__order.clear()


class Seen:
    """Every change of `self.names` is locked but the test: the fix reuses that lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self.names = set()

    def add(self, name):
        if name not in self.names:
            self.names.add(name)

    def forget(self, name):
        with self._lock:
            self.names.discard(name)
