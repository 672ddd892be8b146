# ftmigrate-test: unsafe-fixes (one class-level lock for per-instance state)
import threading


class Cache:
    _misses_lock = threading.Lock()

    def __init__(self):
        self._lock = threading.Lock()
        self._data = {}
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self.hits += 1
                return value
        with self._misses_lock:
            self.misses += 1
        return None

    def reset_stats(self):
        with self._lock:
            self.hits -= self.hits
