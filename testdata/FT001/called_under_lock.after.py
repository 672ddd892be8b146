"""`bump` runs under `lock` when `batch` calls it, and `count` is already guarded by `lock`
there; `lock` is not reentrant, so taking it inside `bump` would deadlock: reported, not
rewritten."""
import threading

lock = threading.Lock()
count = 0


def bump():
    global count
    count += 1


def batch(n):
    global count
    with lock:
        count -= 1
        for _ in range(n):
            bump()
