import threading

class Config:
    _instance = None
    _instance_lock = threading.RLock()

    @classmethod
    def load(cls):
        if cls._instance is None:
            with cls._instance_lock:
                if cls._instance is None:
                    instance = cls()
                    instance.read("app.ini")
                    instance.values["loaded"] = True
                    cls._instance = instance
                    return cls._instance
        return cls._instance

    def __init__(self):
        self.values = {}

    def read(self, path):
        self.values["path"] = path
# ftmigrate-test: unsafe-fixes
