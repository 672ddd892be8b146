import hashlib

_digests = {}


def digest(path):
    if path not in _digests:
        with open(path, "rb") as f:
            _digests[path] = hashlib.sha256(f.read()).hexdigest()
    return _digests[path]
# ftmigrate-test: unsafe-fixes
