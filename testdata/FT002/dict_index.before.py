index = {}


def intern(word):
    """A small id for each distinct word."""
    if word not in index:
        index[word] = len(index)
    return index[word]
