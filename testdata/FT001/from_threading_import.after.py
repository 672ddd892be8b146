from threading import Lock, Thread

done = 0
_done_lock = Lock()


def work():
    global done
    with _done_lock:
        done += 1


threads = [Thread(target=work) for _ in range(4)]
