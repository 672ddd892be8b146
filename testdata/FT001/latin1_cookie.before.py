# -*- coding: latin-1 -*-
"""Café counter."""

visits = 0  # déjà vu


def visit():
    global visits
    visits += 1
