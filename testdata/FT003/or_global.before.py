import sqlite3

_db = None


def db():
    global _db
    _db = _db or sqlite3.connect("app.db")  # opened on first use
    return _db
# ftmigrate-test: unsafe-fixes
