import threading

class Service:
    """Each subclass gets its own singleton: the check looks at the class's own __dict__."""

    _instance_lock = threading.RLock()

    def __new__(cls, *args, **kwargs):
        if "_instance" not in cls.__dict__:
            with cls._instance_lock:
                if "_instance" not in cls.__dict__:
                    cls._instance = super().__new__(cls)
        return cls._instance


class Mailer(Service):
    pass
