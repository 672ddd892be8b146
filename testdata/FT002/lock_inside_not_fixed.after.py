import threading

lock = threading.Lock()
seen = []


def remember(item):
    if item not in seen:
        with lock:
            seen.append(item)
