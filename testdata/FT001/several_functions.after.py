"""Several functions share one global: one lock, used everywhere."""
import threading

balance = 100
_balance_lock = threading.Lock()


def deposit(amount):
    global balance
    with _balance_lock:
        balance += amount


def withdraw(amount):
    global balance
    with _balance_lock:
        balance -= amount
