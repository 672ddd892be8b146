"""Confidence inside ``async def``: only an ``await`` on a way from the read to the write lets
another coroutine in (issue 15, item 4). Shapes from dask.distributed's Scheduler.add_worker."""

from __future__ import annotations

import pytest

from tests.helpers import graded

NO_AWAIT = "in `async def` with no `await` between the read and the write: one event loop cannot interleave it"
ASYNCIO_RACE = (
    "an asyncio race: other coroutines run at the `await` between the read and the write "
    "(a thread lock cannot fix that; an `asyncio.Lock` can)"
)

CASES = [
    pytest.param(
        # distributed/scheduler.py Scheduler.add_worker: the only `await` is in branches that return
        """\
        class Scheduler:
            async def add_worker(self, comm, address, name):
                if address in self.workers:
                    raise ValueError(address)

                if name in self.aliases:
                    msg = {"status": "error", "message": f"name taken, {name}"}
                    await comm.write(msg)
                    return

                self.workers[address] = object()
                self.aliases[name] = address

            def remove_worker(self, name):
                self.aliases.pop(name, None)
        """,
        [
            ("FT002", 3, "low", NO_AWAIT),
            ("FT002", 6, "low", NO_AWAIT),
        ],
        id="await-only-in-branches-that-return",
    ),
    pytest.param(
        """\
        class Cache:
            async def get(self, key):
                if key not in self.values:
                    value = await self.load(key)
                    self.values[key] = value
                    return value
                return self.values[key]
        """,
        [("FT002", 3, "medium", ASYNCIO_RACE)],
        id="await-then-write-in-a-branch-that-returns",
    ),
    pytest.param(
        """\
        class Registry:
            async def add(self, comm, name, address):
                if name in self.aliases:
                    await comm.write("taken")
                    return
                await comm.write("ok")
                self.aliases[name] = address
        """,
        [("FT002", 3, "medium", ASYNCIO_RACE)],
        id="await-on-the-way-to-the-write",
    ),
]


@pytest.mark.parametrize(("code", "expected"), CASES)
def test_async_grading(code, expected):
    assert graded(code) == expected
