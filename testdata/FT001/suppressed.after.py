counter = 0
ticks = 0


def increment():
    global counter, ticks
    counter += 1  # ftmigrate: ignore[FT001]
    ticks += 1  # ftmigrate: ignore
