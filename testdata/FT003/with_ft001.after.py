# ftmigrate-test: select=FT001,FT003
"""A lazily created client and a call counter in the same function share one lock."""
import threading

_client = None
calls = 0
_get_client_lock = threading.RLock()


def get_client():
    global _client, calls
    with _get_client_lock:
        calls += 1
    if _client is None:
        with _get_client_lock:
            if _client is None:
                _client = make_client()
    return _client
# ftmigrate-test: unsafe-fixes
