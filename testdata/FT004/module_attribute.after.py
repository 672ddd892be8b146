import time

import config
from app import settings
import threading

_config_retries_settings_failures_lock = threading.Lock()


def attempt(send):
    while config.retries > 0:
        if send():
            return True
        with _config_retries_settings_failures_lock:
            config.retries -= 1
            settings.failures += 1
        time.sleep(config.backoff)
    return False
