import threading


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0
        self.sizes = {}

    def inc(self):
        with self._lock:
            n = self.count
            n += 1
            self.count = n

    def take(self):
        with self._lock:
            before = self.count
            self.count += 1
        return before

    def grow(self, key, size):
        with self._lock:
            old = self.sizes[key]
            self.sizes[key] = old + size
