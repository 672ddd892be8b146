counter = 0
_counter_lock = "not a lock: the name is taken"


def increment():
    global counter
    counter += 1
