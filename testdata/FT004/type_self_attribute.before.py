class Widget:
    instances = 0

    def register(self):
        type(self).instances += 1
        return self

    def unregister(self):
        self.__class__.instances -= 1
