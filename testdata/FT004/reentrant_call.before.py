import threading


class Basket:
    def __init__(self):
        self.total = 0
        self.count = 0

    def add(self, item):
        self.total += item.price()
        self.count += 1

    def fill(self, items):
        for item in items:
            threading.Thread(target=self.add, args=(item,)).start()
# ftmigrate-test: unsafe-fixes
