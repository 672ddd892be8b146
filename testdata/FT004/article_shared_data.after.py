import threading

shared_data = {"count": 0, "total": 0}
_shared_data_lock = threading.Lock()


def process():
    """Do some work, then update shared data."""
    # Heavy computation (no lock needed)
    result = sum(range(1_000_000))

    # Update shared data
    with _shared_data_lock:
        shared_data["count"] += 1
        shared_data["total"] += result


threads = [threading.Thread(target=process) for _ in range(4)]
