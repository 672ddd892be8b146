import logging
import threading

log = logging.getLogger(__name__)


class Metrics:
    _instance = None
    _instance_lock = threading.RLock()

    def __init__(self):
        self.counters = {}

    @classmethod
    def instance(cls):
        if cls._instance is None:  # first call
            with cls._instance_lock:
                if cls._instance is None:
                    log.debug("creating Metrics")
                    cls._instance = cls()
        return cls._instance
# ftmigrate-test: unsafe-fixes
