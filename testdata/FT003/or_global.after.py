import sqlite3
import threading

_db = None
_db_lock = threading.RLock()


def db():
    global _db
    if not _db:
        with _db_lock:
            if not _db:
                _db = sqlite3.connect("app.db")  # opened on first use
    return _db
# ftmigrate-test: unsafe-fixes
