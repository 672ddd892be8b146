total = 0


def add(n):
    global total
    total = total + n
    total = 2 * total
