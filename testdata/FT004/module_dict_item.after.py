"""Request statistics, updated by every worker thread."""

import logging
import threading

log = logging.getLogger(__name__)

stats = {"requests": 0, "errors": 0}
_stats_lock = threading.Lock()


def record(ok):
    with _stats_lock:
        stats["requests"] += 1
    if not ok:
        with _stats_lock:
            stats["errors"] += 1  # counted separately
        log.warning("request failed")
