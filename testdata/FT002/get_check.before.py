flags = {}
owners = {}


def mark(name):
    if not flags.get(name):
        flags[name] = True
        return True
    return False


def claim(resource, owner):
    if owners.get(resource) is None:
        owners[resource] = owner
    elif owners[resource] != owner:
        raise RuntimeError(f"{resource} is taken")
