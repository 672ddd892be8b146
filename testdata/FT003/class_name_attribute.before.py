class Settings:
    _instance = None

    def __init__(self, path):
        self.path = path

    @staticmethod
    def current():
        if Settings._instance is None:
            Settings._instance = Settings("settings.toml")
        return Settings._instance


def settings():
    if Settings._instance is None:
        Settings._instance = Settings("settings.toml")
    return Settings._instance
# ftmigrate-test: unsafe-fixes
