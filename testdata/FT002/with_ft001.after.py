# ftmigrate-test: select=FT001,FT002
import threading

seen = []
added = 0
_added_seen_lock = threading.Lock()


def add(item):
    global added
    with _added_seen_lock:
        if item not in seen:
            seen.append(item)
            added += 1


def reset_count():
    global added
    with _added_seen_lock:
        added = added - added
