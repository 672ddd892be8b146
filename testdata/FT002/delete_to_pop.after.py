pending = {}


def finish(job_id):
    # Forget the job whether or not it was started.
    pending.pop(job_id, None)  # may already be gone


def cancel(job_id):
    pending.pop(job_id, None)


def start(job_id, job):
    pending[job_id] = job
