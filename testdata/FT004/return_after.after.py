import threading


class IdAllocator:
    def __init__(self):
        self._lock = threading.Lock()
        self.next_id = 0

    def allocate(self):
        with self._lock:
            self.next_id += 1
            return self.next_id

    def allocate_block(self, size):
        with self._lock:
            first = self.next_id
            self.next_id += size
        return first
