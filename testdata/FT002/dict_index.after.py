import threading

index = {}
_index_lock = threading.Lock()


def intern(word):
    """A small id for each distinct word."""
    with _index_lock:
        if word not in index:
            index[word] = len(index)
        return index[word]
