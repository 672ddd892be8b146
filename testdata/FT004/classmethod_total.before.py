class Connection:
    """A pooled connection; the class counts how many are open."""

    opened = 0
    closed = 0

    @classmethod
    def track_open(cls):
        cls.opened += 1

    @classmethod
    def track_close(cls):
        cls.closed += 1
