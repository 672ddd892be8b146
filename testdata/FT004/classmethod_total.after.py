import threading

class Connection:
    """A pooled connection; the class counts how many are open."""

    opened = 0
    _opened_lock = threading.Lock()
    closed = 0
    _closed_lock = threading.Lock()

    @classmethod
    def track_open(cls):
        with cls._opened_lock:
            cls.opened += 1

    @classmethod
    def track_close(cls):
        with cls._closed_lock:
            cls.closed += 1
