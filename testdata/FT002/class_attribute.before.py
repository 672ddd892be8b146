class Plugin:
    registry = {}

    @classmethod
    def register(cls, name, factory):
        if name not in cls.registry:
            cls.registry[name] = factory()


def unregister(name):
    if name in Plugin.registry:
        Plugin.registry.pop(name)
# ftmigrate-test: unsafe-fixes
