# ftmigrate-test: select=FT001,FT003
"""A lazily created client and a call counter in the same function share one lock."""
import threading

_client = None
_calls_client_lock = threading.RLock()
calls = 0


def get_client():
    global _client, calls
    with _calls_client_lock:
        calls += 1
    if _client is None:
        with _calls_client_lock:
            if _client is None:
                _client = make_client()
    return _client
