_c = None


def get():
	global _c
	if _c is None:
		_c = make()
		_c.start()  # publish only once started
	return _c
# ftmigrate-test: unsafe-fixes
