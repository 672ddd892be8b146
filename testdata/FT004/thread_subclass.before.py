import threading


class Poller(threading.Thread):
    def __init__(self, source):
        super().__init__(daemon=True)
        self.source = source
        self.polls = 0
        self.items = 0

    def run(self):
        while self.source.alive():
            self.polls += 1
            self.items += len(self.source.fetch())

    def poke(self):
        self.polls += 1
# ftmigrate-test: unsafe-fixes
