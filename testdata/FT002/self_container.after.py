# ftmigrate-test: min-confidence=low (nothing shows that instances are shared: low confidence)
import threading

class Subscribers:
    """Callbacks, each registered once."""

    _callbacks_lock = threading.Lock()

    def __init__(self):
        self.callbacks = []

    def subscribe(self, callback):
        with self._callbacks_lock:
            if callback not in self.callbacks:
                self.callbacks.append(callback)

    def unsubscribe(self, callback):
        with self._callbacks_lock:
            if callback in self.callbacks:
                self.callbacks.remove(callback)
