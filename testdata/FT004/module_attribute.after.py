import threading
import time

import config
from app import settings

_attempt_lock = threading.Lock()


def attempt(send):
    while config.retries > 0:
        if send():
            return True
        with _attempt_lock:
            config.retries -= 1
            settings.failures += 1
        time.sleep(config.backoff)
    return False
