total = 0


def add_all(items):
    global total
    for item in items:
        total += price(item)
# ftmigrate-test: unsafe-fixes
