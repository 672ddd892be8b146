import threading


class Histogram:
    def __init__(self):
        self.buckets = [0] * 10
        self.samples = 0

    def add(self, value):
        self.buckets[min(value, 9)] += 1
        self.samples += 1

    def start(self, values):
        for value in values:
            threading.Thread(target=self.add, args=(value,)).start()
# ftmigrate-test: unsafe-fixes
