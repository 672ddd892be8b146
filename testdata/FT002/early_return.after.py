import threading

def make_dedupe():
    seen = set()
    _seen_lock = threading.Lock()

    def first_time(key):
        with _seen_lock:
            if key in seen:
                return False
            seen.add(key)
        return True

    return first_time
