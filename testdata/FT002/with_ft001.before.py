# ftmigrate-test: select=FT001,FT002
seen = []
added = 0


def add(item):
    global added
    if item not in seen:
        seen.append(item)
        added += 1


def reset_count():
    global added
    added = added - added
