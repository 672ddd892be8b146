import threading


class Store:
    def __init__(self):
        self._lock = threading.Lock()
        self._index = None

    def index(self):
        if self._index is None:
            self._index = build_index()
        return self._index

    def lookup(self, key):
        with self._lock:
            return self.index().get(key)

    def rebuild(self):
        with self._lock:
            self._index = None
