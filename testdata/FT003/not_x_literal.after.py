import threading

_handlers = None
_handlers_lock = threading.Lock()


def handlers():
    global _handlers
    if not _handlers:
        with _handlers_lock:
            if not _handlers:
                _handlers = {}
    return _handlers
