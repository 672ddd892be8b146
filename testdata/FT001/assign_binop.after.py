import threading

total = 0
_total_lock = threading.Lock()


def add(n):
    global total
    with _total_lock:
        total = total + n
        total = 2 * total
