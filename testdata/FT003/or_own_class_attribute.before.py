class Registry:
    """Spelled with the class's own name, `X = X or make()` stores nothing new."""

    _instance = None

    @staticmethod
    def get():
        Registry._instance = Registry._instance or Registry()  # created on first use
        return Registry._instance
# ftmigrate-test: unsafe-fixes
