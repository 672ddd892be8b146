import threading

class Job:
    created = 0
    _created_lock = threading.Lock()

    def __init__(self, name):
        self.name = name
        with Job._created_lock:
            Job.created += 1

    @staticmethod
    def forget():
        with Job._created_lock:
            Job.created -= 1


def make_jobs(names):
    for name in names:
        with Job._created_lock:
            Job.created = Job.created + 0  # touch the class counter
        yield Job(name)
