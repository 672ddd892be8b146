class Service:
    """Each subclass gets its own singleton: the check looks at the class's own __dict__."""

    def __new__(cls, *args, **kwargs):
        if "_instance" not in cls.__dict__:
            cls._instance = super().__new__(cls)
        return cls._instance


class Mailer(Service):
    pass
