"""Request statistics, updated by every worker thread."""

import logging

log = logging.getLogger(__name__)

stats = {"requests": 0, "errors": 0}


def record(ok):
    stats["requests"] += 1
    if not ok:
        stats["errors"] += 1  # counted separately
        log.warning("request failed")
