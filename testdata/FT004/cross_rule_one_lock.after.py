# ftmigrate-test: select=FT001,FT004
import threading

served = 0
by_path = {}
_record_lock = threading.Lock()


def record(path):
    global served
    with _record_lock:
        served += 1
        by_path[path] += 1
