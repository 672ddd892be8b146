_engine = None


def engine():
    global _engine
    if _engine is None:
        _engine = create_engine()
        _register_hooks()
    return _engine


def _register_hooks():
    _engine.hooks.append(print)
