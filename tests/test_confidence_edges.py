"""Confidence where LibCST's tree and ``ast`` differ in shape (issue 15 item 1: the ast port
must grade exactly as before): statements sharing a line (``a; b``), one-line suites, a
docstring on its header's line, names that are attributes or keywords, a closure used as a
default value, a decorator or a starred argument. Exact levels and reasons."""

from __future__ import annotations

import pytest

from tests.helpers import graded

NO_AWAIT = "in `async def` with no `await` between the read and the write: one event loop cannot interleave it"
ASYNCIO_RACE = (
    "an asyncio race: other coroutines run at the `await` between the read and the write "
    "(a thread lock cannot fix that; an `asyncio.Lock` can)"
)
CLOSURE_LEAVES = "the closure leaves its function and may be called from any thread"


def branch(lines: str) -> str:
    """A registry whose check-then-act has ``lines`` in the branch that finds the name taken."""
    return (
        "class Registry:\n    async def add(self, comm, name, address):\n        if name in self.aliases:\n"
        + "".join(f"            {line}\n" for line in lines.split("\n"))
        + "        self.aliases[name] = address\n"
    )


CASES = [
    pytest.param(
        # a one-line suite is no block of its own: the function's block goes on to the write
        "class Registry:\n    async def add(self, comm, name, address):\n"
        "        if name in self.aliases: await comm.write('taken'); return\n        self.aliases[name] = address\n",
        [("FT002", 3, "medium", ASYNCIO_RACE)],
        id="await-in-one-line-suite",
    ),
    pytest.param(
        branch("log(self.aliases); await comm.write('taken')\nreturn"),
        [("FT002", 3, "medium", ASYNCIO_RACE)],
        id="state-named-before-the-await-on-its-line",
    ),
    pytest.param(
        branch("log(name); await comm.write('taken')\nreturn"),
        [("FT002", 3, "low", NO_AWAIT)],
        id="other-statement-before-the-await-on-its-line",
    ),
    pytest.param(
        branch("await comm.write('taken')\nother.aliases = 1\nraise KeyError(name)"),
        [("FT002", 3, "medium", ASYNCIO_RACE)],
        id="state-named-as-an-attribute-after-the-await",
    ),
    pytest.param(
        branch("await comm.write('taken')\nreport(aliases=1)\nreturn"),
        [("FT002", 3, "medium", ASYNCIO_RACE)],
        id="state-named-as-a-keyword-after-the-await",
    ),
    pytest.param(
        branch("x = await comm.write('taken'); return x"),
        [("FT002", 3, "low", NO_AWAIT)],
        id="await-and-return-on-one-line",
    ),
    pytest.param(
        "class Counter:\n    def get(self): 'This class is thread-safe.'\n    def check(self, key):\n"
        "        if key not in self.seen:\n            self.seen[key] = 1\n",
        [("FT002", 4, "low", "nothing shows that `Counter` instances are used by more than one thread")],
        id="docstring-on-the-header-line-not-read",
    ),
    pytest.param(
        "class Counter:\n    def get(self):\n        'This class is thread-safe.'\n    def check(self, key):\n"
        "        if key not in self.seen:\n            self.seen[key] = 1\n",
        [("FT002", 5, "medium", '`Counter` instances may be shared: its documentation says "thread-safe"')],
        id="method-docstring-read",
    ),
    pytest.param(
        "def outer(items):\n    seen = {}\n    def visit(x):\n        if x not in seen:\n            seen[x] = 1\n"
        "    def run(cb=visit):\n        pass\n",
        [],
        id="closure-as-default-value-stays",
    ),
    pytest.param(
        "def outer(items):\n    seen = {}\n    def visit(x):\n        if x not in seen:\n            seen[x] = 1\n"
        "    @visit\n    def run():\n        pass\n",
        [("FT002", 4, "medium", CLOSURE_LEAVES)],
        id="closure-as-decorator-leaves",
    ),
    pytest.param(
        "def outer(items):\n    seen = {}\n    def visit(x):\n        if x not in seen:\n            seen[x] = 1\n"
        "    apply(*[visit])\n",
        [("FT002", 4, "low", "the closure is only passed to calls in `outer()` (a key or visitor function run during "
          "the call, as far as the module shows)")],
        id="closure-in-a-starred-argument-is-passed",
    ),
    pytest.param(
        "import threading\nclass Worker:\n    def step(self, key):\n        if key not in self.seen:\n"
        "            self.seen[key] = 1\ndef start(w):\n    for _ in range(4):\n        threading.Thread(target=w.step)\n"
        "w = Worker()\n",
        [("FT002", 4, "high", "`step()` runs in threads started in this module")],
        id="method-of-an-instance-handed-to-threads",
    ),
]


@pytest.mark.parametrize(("code", "expected"), CASES)
def test_confidence_edges(code, expected):
    assert graded(code) == expected
