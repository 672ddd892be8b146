import threading

counter = 0
_increment_lock = threading.Lock()
_counter_lock = "not a lock: the name is taken"


def increment():
    global counter
    with _increment_lock:
        counter += 1
