class Pool:
    _pool = None

    @classmethod
    def get(cls):
        cls._pool = cls._pool or cls()
        return cls._pool
