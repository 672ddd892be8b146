import time

import config
from app import settings


def attempt(send):
    while config.retries > 0:
        if send():
            return True
        config.retries -= 1
        settings.failures += 1
        time.sleep(config.backoff)
    return False
