import threading

class Plugin:
    registry = {}
    _registry_lock = threading.RLock()

    @classmethod
    def register(cls, name, factory):
        with cls._registry_lock:
            if name not in cls.registry:
                cls.registry[name] = factory()


def unregister(name):
    with Plugin._registry_lock:
        if name in Plugin.registry:
            Plugin.registry.pop(name)
# ftmigrate-test: unsafe-fixes
