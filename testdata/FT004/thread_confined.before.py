import threading


class Downloader(threading.Thread):
    """Each thread counts its own work: only run() updates these."""

    def __init__(self, urls):
        super().__init__()
        self.urls = urls
        self.done = 0
        self.failed = 0

    def run(self):
        for url in self.urls:
            if fetch(url):
                self.done += 1
            else:
                self.failed += 1


class Monitor:
    def __init__(self):
        self.samples = 0

    def watch(self):
        self.samples += 1


monitor = Monitor()
threading.Thread(target=monitor.watch).start()
