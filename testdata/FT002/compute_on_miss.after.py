import hashlib
import threading

_digests = {}
_digests_lock = threading.RLock()


def digest(path):
    with _digests_lock:
        if path not in _digests:
            with open(path, "rb") as f:
                _digests[path] = hashlib.sha256(f.read()).hexdigest()
        return _digests[path]
# ftmigrate-test: unsafe-fixes
