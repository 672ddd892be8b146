"""Several functions share one global: one lock, used everywhere."""

balance = 100


def deposit(amount):
    global balance
    balance += amount


def withdraw(amount):
    global balance
    balance -= amount
