_handlers = None


def handlers():
    global _handlers
    if not _handlers:
        _handlers = {}
    return _handlers
