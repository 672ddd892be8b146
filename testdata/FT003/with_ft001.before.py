# ftmigrate-test: select=FT001,FT003
"""A lazily created client and a call counter in the same function share one lock."""

_client = None
calls = 0


def get_client():
    global _client, calls
    calls += 1
    if _client is None:
        _client = make_client()
    return _client
# ftmigrate-test: unsafe-fixes
