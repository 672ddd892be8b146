import threading

_state_lock = threading.Lock()
count = 0


def safe_add():
    global count
    with _state_lock:
        count += 1


def unsafe_add():
    global count
    with _state_lock:
        count += 1
