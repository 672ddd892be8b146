# ftmigrate-test: select=FT001,FT004
import threading

served = 0
_served_by_path_lock = threading.Lock()
by_path = {}


def record(path):
    global served
    with _served_by_path_lock:
        served += 1
        by_path[path] += 1
