import threading

_lock = threading.RLock()
_handlers = {}


def _acquireLock():
    _lock.acquire()


def _releaseLock():
    _lock.release()


def set_name(handler, name):
    _acquireLock()
    try:
        if handler.name in _handlers:
            del _handlers[handler.name]
        handler.name = name
        if name:
            _handlers[name] = handler
    finally:
        _releaseLock()
