"""Smoke test for distributed: an in-process LocalCluster, a client, and its coordination primitives.

distributed's sdist ships no tests. This starts ``LocalCluster(processes=False)`` (in-process
transport, no dashboard), runs tasks with ``submit``/``map``/``gather``, uses the
distributed ``Lock``, ``Semaphore``, ``Variable``, ``Queue`` and ``Event`` from tasks and
from the client, then closes everything. Prints one line per check; exit 1 on failure.
"""

import sys

from distributed import Client, Event, LocalCluster, Lock, Queue, Semaphore, Variable


def check(label, actual, expected):
    status = "ok" if actual == expected else "FAILED"
    print(f"{label}: {status}", flush=True)
    if actual != expected:
        raise SystemExit(f"{label}: {actual!r} != {expected!r}")


def increment(x):
    return x + 1


def locked_increment(x):
    with Lock("smoke-lock"):
        return x + 1


def main():
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster, Client(cluster) as client:
        check("submit", client.submit(increment, 1).result(timeout=60), 2)
        check("map/gather", client.gather(client.map(increment, range(10))), list(range(1, 11)))
        check("lock in tasks", client.gather(client.map(locked_increment, range(5))), [1, 2, 3, 4, 5])
        lock = Lock("client-lock")
        check("lock acquire", lock.acquire(timeout=10), True)
        check("lock locked", lock.locked(), True)
        lock.release()
        semaphore = Semaphore(max_leases=2, name="smoke-semaphore")
        check("semaphore acquire", semaphore.acquire(timeout=10), True)
        semaphore.release()
        variable = Variable("smoke-variable")
        variable.set(41)
        check("variable", variable.get(timeout=10), 41)
        queue = Queue("smoke-queue")
        queue.put(1)
        queue.put(2)
        check("queue", [queue.get(timeout=10), queue.get(timeout=10)], [1, 2])
        event = Event("smoke-event")
        event.set()
        check("event", event.wait(timeout=10), True)
    print("distributed cluster smoke: all ok", flush=True)


if __name__ == "__main__":
    sys.exit(main())
