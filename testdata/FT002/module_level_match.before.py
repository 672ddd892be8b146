import sys

match sys.platform:
    case "win32":
        seen = set()
    case _:
        seen = set()
try:
    pass
except* ValueError:
    extra = []


def remember(item):
    if item not in seen:
        seen.add(item)
