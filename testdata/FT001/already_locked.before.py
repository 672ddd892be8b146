import threading

counter = 0
lock = threading.Lock()


def increment():
    global counter
    with lock:
        counter += 1


def decrement():
    global counter
    lock.acquire()
    try:
        counter -= 1
    finally:
        lock.release()
