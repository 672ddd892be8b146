import threading

class Registry:
    """Spelled with the class's own name, `X = X or make()` stores nothing new."""

    _instance = None
    _instance_lock = threading.RLock()

    @staticmethod
    def get():
        if not Registry._instance:
            with Registry._instance_lock:
                if not Registry._instance:
                    Registry._instance = Registry()  # created on first use
        return Registry._instance
# ftmigrate-test: unsafe-fixes
