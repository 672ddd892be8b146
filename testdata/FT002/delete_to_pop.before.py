pending = {}


def finish(job_id):
    # Forget the job whether or not it was started.
    if job_id in pending:  # may already be gone
        del pending[job_id]


def cancel(job_id):
    if job_id in pending: del pending[job_id]


def start(job_id, job):
    pending[job_id] = job
