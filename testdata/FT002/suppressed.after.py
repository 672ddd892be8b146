seen = []


def remember(item):
    if item not in seen:  # ftmigrate: ignore[FT002]
        seen.append(item)


def remember_too(item):
    if item not in seen:  # ftmigrate: ignore
        seen.append(item)
