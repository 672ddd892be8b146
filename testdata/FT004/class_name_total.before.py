class Job:
    created = 0

    def __init__(self, name):
        self.name = name
        Job.created += 1

    @staticmethod
    def forget():
        Job.created -= 1


def make_jobs(names):
    for name in names:
        Job.created = Job.created + 0  # touch the class counter
        yield Job(name)
