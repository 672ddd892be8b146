# ftmigrate-test: shared-classes=Metrics
import threading

class Metrics:
    """Shared by the request handlers (listed in shared-classes)."""

    _metrics_lock = threading.Lock()

    def __init__(self):
        self.requests = 0
        self.latency = 0.0

    def observe(self, seconds):
        with self._metrics_lock:
            self.requests += 1
            self.latency += seconds


class Report:
    """Not listed: one thread builds a report."""

    def __init__(self):
        self.lines = 0

    def add(self, line):
        self.lines += 1
# ftmigrate-test: unsafe-fixes
