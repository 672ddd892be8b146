"""HTTP client shared by the whole application."""
import os
import threading

import requests

_client = None
_client_lock = threading.RLock()
TIMEOUT = 10


def get_client():
    """The shared session, created on first use."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = requests.Session()
    return _client


def base_url():
    return os.environ["BASE_URL"]
# ftmigrate-test: unsafe-fixes
