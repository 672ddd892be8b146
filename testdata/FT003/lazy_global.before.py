"""HTTP client shared by the whole application."""
import os

import requests

_client = None
TIMEOUT = 10


def get_client():
    """The shared session, created on first use."""
    global _client
    if _client is None:
        _client = requests.Session()
    return _client


def base_url():
    return os.environ["BASE_URL"]
# ftmigrate-test: unsafe-fixes
