import threading

counter = 0
_counter_lock1 = threading.Lock()
_counter_lock = "not a lock: the name is taken"


def increment():
    global counter
    with _counter_lock1:
        counter += 1
