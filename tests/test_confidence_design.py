"""Sharing evidence from a library's own words and parts (ftmigrate/design.py): a class that
creates `queue.Queue` objects or says it is thread-safe is built for several threads
(medium); a docstring that says "not thread-safe" leaves serialising to the caller (low)."""

from __future__ import annotations

import pytest

from tests.helpers import graded

BROKER = """\
    {imports}

    class Broker:
        {doc}
        def __init__(self):
            self.queues = {{}}

        def new_queue(self, name):
            if name not in self.queues:
                self.queues[name] = {factory}()
            return self.queues[name]
    """


def broker(imports: str, factory: str, doc: str = '"""Holds named queues."""') -> str:
    return BROKER.format(imports=imports, factory=factory, doc=doc)


NOTHING = "nothing shows that `Broker` instances are used by more than one thread"

CASES = [
    pytest.param(
        # kombu/transport/pyro.py KombuBroker, kombu/transport/memory.py Channel
        broker("from queue import Queue", "Queue"),
        [("FT002", 9, "medium", "`Broker` instances may be shared: it creates `Queue()` objects, which hand work between threads")],
        id="creates-queue-Queue",
    ),
    pytest.param(
        broker("import queue as q", "q.SimpleQueue"),
        [("FT002", 9, "medium", "`Broker` instances may be shared: it creates `q.SimpleQueue()` objects, which hand work between threads")],
        id="creates-queue-module-alias",
    ),
    pytest.param(
        broker("from asyncio import Queue", "Queue"),
        [("FT002", 9, "low", NOTHING)],
        id="asyncio-queue-is-no-evidence",
    ),
    pytest.param(
        broker("import json", "dict", doc='"""A thread-safe registry of queues."""'),
        [("FT002", 9, "medium", "`Broker` instances may be shared: its docstring says it is thread-safe")],
        id="docstring-says-thread-safe",
    ),
    pytest.param(
        # sqlalchemy/orm/session.py Session
        broker("from queue import Queue", "Queue", doc='"""The Broker is **not safe for use in concurrent threads.**"""'),
        [("FT002", 9, "low", "`Broker` documents that it is not thread-safe: callers must not share it between threads")],
        id="docstring-says-not-safe-for-threads",
    ),
]


@pytest.mark.parametrize(("code", "expected"), CASES)
def test_design_evidence(code, expected):
    assert graded(code) == expected
