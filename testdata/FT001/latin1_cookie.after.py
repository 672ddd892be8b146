# -*- coding: latin-1 -*-
"""Café counter."""
import threading

visits = 0  # déjà vu
_visits_lock = threading.Lock()


def visit():
    global visits
    with _visits_lock:
        visits += 1
