import os
import threading

errors = 0
_errors_lock = threading.Lock()


def fail():
    global errors
    with _errors_lock:
        errors += 1
