# ftmigrate-test: min-confidence=low (nothing shows that instances are shared: low confidence)
class Subscribers:
    """Callbacks, each registered once."""

    def __init__(self):
        self.callbacks = []

    def subscribe(self, callback):
        if callback not in self.callbacks:
            self.callbacks.append(callback)

    def unsubscribe(self, callback):
        if callback in self.callbacks:
            self.callbacks.remove(callback)
