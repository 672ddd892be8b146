class Cache:
    """Per-process cache; the instance is stored on the class when first asked for."""

    def __init__(self):
        self.data = {}

    @classmethod
    def get(cls):
        if not hasattr(cls, "_instance"):
            cls._instance = cls()
        return cls._instance
# ftmigrate-test: unsafe-fixes
