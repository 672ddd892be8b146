"""Counters live in .state; this module only updates them."""

from .state import stats


def hit(key):
    stats[key] += 1
