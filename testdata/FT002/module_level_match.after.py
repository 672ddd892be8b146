import sys
import threading

_seen_lock = threading.Lock()

match sys.platform:
    case "win32":
        seen = set()
    case _:
        seen = set()
try:
    pass
except* ValueError:
    extra = []


def remember(item):
    with _seen_lock:
        if item not in seen:
            seen.add(item)
