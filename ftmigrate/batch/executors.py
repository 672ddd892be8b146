"""Where repositories are processed: a local process pool, or tasks on a Dask cluster.

Both hand every result to ``on_result`` as soon as it arrives (for progress) and return the
results in the order of the tasks. A worker that dies (a segfault, the OOM killer) fails
only its own repository.
"""

from __future__ import annotations

import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Callable, Sequence

from ftmigrate.batch.model import FAILED, RepoResult, RepoTask
from ftmigrate.batch.worker import abandon, process_repo

OnResult = Callable[[RepoResult], None]


class ExecutorError(Exception):
    """The executor itself cannot run (Dask missing, scheduler unreachable): a usage error."""


def crashed(task: RepoTask, reason: str) -> RepoResult:
    return RepoResult(name=task.name, source=task.source, status=FAILED, error=f"worker crashed: {reason}", options_key=task.options.key())


def _ordered(tasks: Sequence[RepoTask], results: dict[str, RepoResult]) -> list[RepoResult]:
    return [results[task.name] for task in tasks]


def run_local(tasks: Sequence[RepoTask], jobs: int, on_result: OnResult) -> list[RepoResult]:
    results: dict[str, RepoResult] = {}

    def done(result: RepoResult) -> None:
        results[result.name] = result
        on_result(result)

    lost = _pool(tasks, jobs, done)
    # When a worker dies the pool breaks and every repository in flight is lost with it;
    # each is retried alone, so only the one that really kills its worker is failed.
    for task in lost:
        if _pool([replace(task, retry=True)], 1, done):
            abandon(task)
            done(crashed(task, "the worker process died (twice, the second time running only this repository)"))
    return _ordered(tasks, results)


def _pool(tasks: Sequence[RepoTask], jobs: int, done: OnResult) -> list[RepoTask]:
    """Run tasks; return those lost to a broken pool."""
    lost = []
    # "spawn": forking a process that runs threads (rich's refresh thread) is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(tasks))), mp_context=context) as pool:
        futures = {pool.submit(process_repo, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                try:
                    done(future.result())
                except BrokenProcessPool:
                    lost.append(futures[future])
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return sorted(lost, key=list(tasks).index)


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


def run_dask(client, tasks: Sequence[RepoTask], on_result: OnResult) -> list[RepoResult]:
    """Each repository is one task on the cluster; paths must be valid on the workers.
    Closes the client when done."""
    from dask.distributed import as_completed as dask_completed

    results: dict[str, RepoResult] = {}
    run_id = uuid.uuid4().hex[:8]
    try:
        futures = {
            client.submit(process_repo, task, key=f"ftmigrate-{run_id}-{index}", pure=False): task
            for index, task in enumerate(tasks)
        }
        for future in dask_completed(list(futures), loop=client.loop):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # KilledWorker and the like: this repository only
                result = crashed(task, f"{type(exc).__name__}: {exc}")
            results[task.name] = result
            on_result(result)
    finally:
        client.close()
    return _ordered(tasks, results)
