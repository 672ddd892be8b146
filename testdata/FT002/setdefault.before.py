import collections

counts = {}
groups = collections.defaultdict(list)


def first_seen(word):
    if word not in counts:
        counts[word] = 0


def ensure_group(name):
    if name not in groups:
        # an empty group until members arrive
        groups[name] = []
