import threading

class Widget:
    instances = 0
    _instances_lock = threading.Lock()

    def register(self):
        with type(self)._instances_lock:
            type(self).instances += 1
        return self

    def unregister(self):
        with self.__class__._instances_lock:
            self.__class__.instances -= 1
