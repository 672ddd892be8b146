import threading

counter = 0
_counter_lock = threading.Lock()


def increment():
    global counter
    with _counter_lock:
        counter += 1
