import threading

_c = None
_c_lock = threading.RLock()


def get():
	global _c
	if _c is None:
		with _c_lock:
			if _c is None:
				c = make()
				c.start()  # publish only once started
				_c = c
	return _c
# ftmigrate-test: unsafe-fixes
