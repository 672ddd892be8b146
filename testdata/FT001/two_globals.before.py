hits = 0
misses = 0


def record(found):
    global hits, misses
    if found:
        hits += 1
    else:
        misses += 1
