errors = 0


def check(ok):
    global errors
    if not ok: errors += 1
