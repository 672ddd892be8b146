import threading

count = 0
_count_lock = threading.Lock()


def bump():
    global count
    with _count_lock:
        count += 1
