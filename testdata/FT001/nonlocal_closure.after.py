import threading

def make_counter():
    count = 0
    _count_lock = threading.Lock()

    def increment():
        nonlocal count
        with _count_lock:
            count += 1
            return count

    return increment
