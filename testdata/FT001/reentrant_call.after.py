import threading

total = 0
_total_lock = threading.RLock()


def add_all(items):
    global total
    for item in items:
        with _total_lock:
            total += price(item)
# ftmigrate-test: unsafe-fixes
