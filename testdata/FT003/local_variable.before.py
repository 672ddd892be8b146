def build(parts):
    result = None
    if result is None:
        result = []
    for part in parts:
        result = result or []
        result.append(part)
    return result
