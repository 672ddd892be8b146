import threading


class Sessions:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_user = {}

    def open(self, user, session):
        with self._lock:
            if user in self._by_user:
                raise ValueError(f"{user} already has a session")
            self._by_user[user] = session

    def close(self, user):
        with self._lock:
            self._by_user.pop(user, None)

    def touch(self, user, now):
        with self._lock:
            if self._by_user.get(user) is not None:
                self._by_user[user] = (self._by_user[user][0], now)
