"""Request statistics for the demo shop: shared by every worker thread."""

import logging

log = logging.getLogger(__name__)

requests_served = 0
bytes_sent = 0


def record(response_size):
    global requests_served, bytes_sent
    requests_served += 1
    bytes_sent += response_size


def make_id_generator():
    last_id = 0

    def next_id():
        nonlocal last_id
        last_id += 1
        return last_id

    return next_id
