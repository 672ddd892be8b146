class Config:
    _instance = None

    @classmethod
    def load(cls):
        if cls._instance is None:
            cls._instance = cls()
            cls._instance.read("app.ini")
            cls._instance.values["loaded"] = True
            return cls._instance
        return cls._instance

    def __init__(self):
        self.values = {}

    def read(self, path):
        self.values["path"] = path
# ftmigrate-test: unsafe-fixes
