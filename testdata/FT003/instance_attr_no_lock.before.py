import threading


class Poller(threading.Thread):
    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self._session = None

    def session(self):
        if self._session is None:
            self._session = open_session(self.url)
        return self._session

    def run(self):
        while True:
            self.session().get(self.url)
