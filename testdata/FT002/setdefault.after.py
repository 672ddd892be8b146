import collections

counts = {}
groups = collections.defaultdict(list)


def first_seen(word):
    counts.setdefault(word, 0)


def ensure_group(name):
    # an empty group until members arrive
    groups.setdefault(name, [])
