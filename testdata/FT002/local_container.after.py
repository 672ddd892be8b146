def unique(items):
    seen = []
    out = set()
    for item in items:
        if item not in seen:
            seen.append(item)
        if item not in out:
            out.add(item)
    return seen


def dedupe(items, seen):
    if items[0] not in seen:
        seen.append(items[0])
