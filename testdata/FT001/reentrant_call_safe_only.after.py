# Without --unsafe-fixes: the lock would be held while price() runs, so nothing is written.
total = 0


def add_all(items):
    global total
    for item in items:
        total += price(item)
