# ftmigrate-test: unsafe-fixes (no lock guards this state yet: one class-level lock per group, for all instances)
import threading


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0
        self.sizes = {}

    def inc(self):
        n = self.count
        n += 1
        self.count = n

    def take(self):
        before = self.count
        self.count += 1
        return before

    def grow(self, key, size):
        old = self.sizes[key]
        self.sizes[key] = old + size
