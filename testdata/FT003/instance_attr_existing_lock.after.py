import threading


class Repository:
    def __init__(self, dsn):
        self.dsn = dsn
        self._conn = None
        self._lock = threading.Lock()

    def connection(self):
        if self._conn is None:
            with self._lock:
                if self._conn is None:
                    self._conn = connect(self.dsn)
        return self._conn

    def close(self):
        with self._lock:
            if self._conn is not None:
                self._conn.close()
# ftmigrate-test: unsafe-fixes
