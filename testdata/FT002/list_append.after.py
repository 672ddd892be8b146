"""Remember each URL once, in the order first seen."""
import threading

seen = []
_seen_lock = threading.Lock()


def remember(url):
    with _seen_lock:
        if url not in seen:
            seen.append(url)


def remember_all(urls):
    for url in urls:
        with _seen_lock:
            if url not in seen: seen.append(url)
