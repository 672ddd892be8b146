import threading

errors = 0
_errors_lock = threading.Lock()


def check(ok):
    global errors
    if not ok:
        with _errors_lock:
            errors += 1
