"""Nothing shared, nothing to fix: the tests are about where they run."""


def double(x):
    return 2 * x
