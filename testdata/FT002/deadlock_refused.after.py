import threading


class Loader:
    def __init__(self):
        self._lock = threading.Lock()
        self._data = {}

    def _load(self, key):
        with self._lock:
            return key * 2

    def get(self, key):
        if key not in self._data:
            self._data[key] = self._load(key)
        return self._data[key]

    def clear(self):
        with self._lock:
            self._data.clear()
