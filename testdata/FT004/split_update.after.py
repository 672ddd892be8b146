# ftmigrate-test: unsafe-fixes (no lock guards this state yet: one class-level lock per group, for all instances)
import threading


class Stats:
    _count_lock = threading.Lock()
    _sizes_lock = threading.Lock()

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0
        self.sizes = {}

    def inc(self):
        with self._count_lock:
            n = self.count
            n += 1
            self.count = n

    def take(self):
        with self._count_lock:
            before = self.count
            self.count += 1
        return before

    def grow(self, key, size):
        with self._sizes_lock:
            old = self.sizes[key]
            self.sizes[key] = old + size
