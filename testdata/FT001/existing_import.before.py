import os
import threading

errors = 0


def fail():
    global errors
    errors += 1
