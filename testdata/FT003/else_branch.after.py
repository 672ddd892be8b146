_conn = None


def conn():
    global _conn
    if _conn is None:
        _conn = connect()
    else:
        _conn.ping()
    return _conn
