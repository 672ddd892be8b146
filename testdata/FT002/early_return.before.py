def make_dedupe():
    seen = set()

    def first_time(key):
        if key in seen:
            return False
        seen.add(key)
        return True

    return first_time
