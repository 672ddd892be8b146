import threading


def work():
    global done
    for _ in range(1000):
        with _done_lock:
            done += 1


_done_lock = threading.Lock()


if __name__ == "__main__":
    # the state is created here, so the lock must exist before this block runs
    done = 0
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(done)
