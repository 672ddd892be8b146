import threading


class Reader:
    """Every caller of _read_unlocked() holds _read_lock, so its updates are locked."""

    def __init__(self, raw):
        self._read_lock = threading.Lock()
        self.raw = raw
        self.pos = 0
        self.reads = 0

    def read(self, n):
        with self._read_lock:
            return self._read_unlocked(n)

    def peek(self, n):
        with self._read_lock:
            data = self._read_unlocked(n)
            self.pos -= len(data)
            return data

    def _read_unlocked(self, n):
        data = self.raw[self.pos:self.pos + n]
        self.pos += len(data)
        self.reads += 1
        return data

    def skip(self, n):
        with self._read_lock:
            self.pos += n  # not locked: reported
