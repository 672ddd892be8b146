import threading


class Basket:
    _total_count_lock = threading.RLock()

    def __init__(self):
        self.total = 0
        self.count = 0

    def add(self, item):
        with self._total_count_lock:
            self.total += item.price()
            self.count += 1

    def fill(self, items):
        for item in items:
            threading.Thread(target=self.add, args=(item,)).start()
