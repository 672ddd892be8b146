"""The same singletons with `--unsafe-fixes`: both are fixed."""
import threading


class Registry:
    _instance = None
    _instance_lock = threading.RLock()

    def __new__(cls, *args):
        if cls._instance is None:
            with cls._instance_lock:
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
        return cls._instance

    def __init__(self, *args):
        """Set up once."""
        with self._instance_lock:
            if getattr(self, "_initialized", False):
                return
            self.entries = {}
            self._initialized = True


class Config:
    # Its initialisation calls load_values(): an unsafe fix, held back with the `__new__` fix.
    _instance = None
    _config_lock = threading.RLock()

    def __new__(cls):
        if cls._instance is None:
            with cls._config_lock:
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
        return cls._instance

    def __init__(self):
        with self._config_lock:
            if not hasattr(self, "values"):
                self.values = load_values()


def load_values():
    return {"debug": False}
# ftmigrate-test: unsafe-fixes
