"""Where repositories are processed: a local process pool, or tasks on a Dask cluster.

Both hand every result to ``on_result`` as soon as it arrives (for progress) and return the
results in the order of the tasks. A worker that dies (a segfault, the OOM killer) fails
only its own repository.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import uuid
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from ftmigrate.batch.model import FAILED, NOT_STARTED, ROLLED_BACK, RepoResult, RepoTask
from ftmigrate.batch.stop import GRACE_SECONDS, Stopped, StopSwitch, request_stop, start_worker
from ftmigrate.batch.worker import abandon, process_repo, stopped_result

OnResult = Callable[[RepoResult], None]


class ExecutorError(Exception):
    """The executor itself cannot run (Dask missing, scheduler unreachable): a usage error."""


def crashed(task: RepoTask, reason: str) -> RepoResult:
    return RepoResult(name=task.name, source=task.source, status=FAILED, error=f"worker crashed: {reason}", options_key=task.options.key())


def run_local(tasks: Sequence[RepoTask], jobs: int, on_result: OnResult, switch: StopSwitch | None = None) -> list[RepoResult]:
    """With ``switch`` (its signal handlers installed), a stop signal ends the run early:
    the results then say which repositories were rolled back or not started."""
    switch = switch or StopSwitch()
    results: dict[str, RepoResult] = {}

    def done(result: RepoResult) -> None:
        if result.name not in results:  # after a stop, finished futures are collected again
            results[result.name] = result
            on_result(result)

    lost = _pool(tasks, jobs, done, switch)
    # When a worker dies the pool breaks and every repository in flight is lost with it;
    # each is retried alone, so only the one that really kills its worker is failed.
    for task in lost:
        if switch.signum is None:
            _pool([replace(task, retry=True)], 1, done, switch)
        if task.name in results:  # the retry finished it
            continue
        abandon(task)
        if switch.signum is not None:
            done(stopped_result(task, ROLLED_BACK, switch.signum))
        else:
            done(crashed(task, "the worker process died (twice, the second time running only this repository)"))
    return _ordered(tasks, results, switch.signum)


def _pool(tasks: Sequence[RepoTask], jobs: int, done: OnResult, switch: StopSwitch) -> list[RepoTask]:
    """Run tasks; return those lost to a broken pool (or to a stop)."""
    lost = []
    # "spawn": forking a process that runs threads (rich's refresh thread) is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(tasks))), mp_context=context, initializer=start_worker) as pool:
        futures = {pool.submit(process_repo, task): task for task in tasks}
        try:
            with switch.armed():
                for future in as_completed(futures):
                    try:
                        done(future.result())
                    except BrokenProcessPool:
                        lost.append(futures[future])
        except Stopped:
            request_stop(Path(tasks[0].options.output), switch.signum)
            lost = _wind_down(pool, futures, done, switch.signum)
    return sorted(lost, key=list(tasks).index)


def _wind_down(pool: ProcessPoolExecutor, futures: dict[Future, RepoTask], done: OnResult, signum: int) -> list[RepoTask]:
    """After a stop: cancel what has not started, pass the signal on to the workers (each
    rolls back its repository, or finishes creating its branch), wait for their answers,
    kill those that give none. Returns the tasks whose worker died or was killed."""
    for future in futures:
        future.cancel()
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signum)
    running = [f for f in futures if not f.cancelled()]  # also those finished just before the stop
    lost = []
    try:
        for future in as_completed(running, timeout=GRACE_SECONDS):
            try:
                done(future.result())
            except BrokenProcessPool:
                lost.append(futures[future])
    except FuturesTimeout:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                worker.kill()
        lost += [futures[f] for f in running if not f.done()]
    return lost


def _ordered(tasks: Sequence[RepoTask], results: dict[str, RepoResult], signum: int | None = None) -> list[RepoResult]:
    """Every task's result in task order; after a stop, the missing ones were not started."""
    return [results.get(task.name) or stopped_result(task, NOT_STARTED, signum) for task in tasks]


def connect_dask(scheduler: str):
    """A client of an existing cluster; dask is imported only here (it is an optional extra)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise ExecutorError('--executor dask needs dask.distributed: pip install "ftmigrate[dask]"') from None
    try:
        return Client(scheduler, set_as_default=False)  # timeout: dask config distributed.comm.timeouts.connect
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None


def run_dask(client, tasks: Sequence[RepoTask], on_result: OnResult, switch: StopSwitch | None = None) -> list[RepoResult]:
    """Each repository is one task on the cluster; paths must be valid on the workers.
    A stop leaves the stop file (tasks see it between steps: those running roll back, the
    others do not start), collects their answers for ``GRACE_SECONDS``, then cancels the
    rest. Closes the client when done."""
    from dask.distributed import as_completed as dask_completed

    switch = switch or StopSwitch()
    results: dict[str, RepoResult] = {}
    run_id = uuid.uuid4().hex[:8]
    futures: dict = {}

    def collect(pending, timeout: float | None = None) -> None:
        for future in dask_completed(pending, loop=client.loop, timeout=timeout):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker and the like: this repository only
                result = crashed(task, f"{type(exc).__name__}: {exc}")
            if task.name not in results:
                results[task.name] = result
                on_result(result)

    try:
        futures = {
            client.submit(process_repo, task, key=f"ftmigrate-{run_id}-{index}", pure=False): task
            for index, task in enumerate(tasks)
        }
        try:
            with switch.armed():
                collect(list(futures))
        except Stopped as exc:
            request_stop(Path(tasks[0].options.output), exc.signum)
            with contextlib.suppress(TimeoutError):
                collect([f for f, task in futures.items() if task.name not in results], GRACE_SECONDS)
            unfinished = {f: task for f, task in futures.items() if task.name not in results}
            client.cancel(list(unfinished))
            for task in unfinished.values():
                result = stopped_result(task, NOT_STARTED, exc.signum)
                result.error += "; cancelled on the Dask cluster (a running task stops at its next step, before any branch)"
                results[task.name] = result
    finally:
        client.close()
    return _ordered(tasks, results, switch.signum)
