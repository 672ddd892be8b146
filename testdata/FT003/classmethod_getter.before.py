import logging

log = logging.getLogger(__name__)


class Metrics:
    _instance = None

    def __init__(self):
        self.counters = {}

    @classmethod
    def instance(cls):
        if cls._instance is None:  # first call
            log.debug("creating Metrics")
            cls._instance = cls()
        return cls._instance
# ftmigrate-test: unsafe-fixes
