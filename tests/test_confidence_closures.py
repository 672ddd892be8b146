"""Closures (ftmigrate/closures.py): which nested functions leave the call that made them,
graded by the engine on the shapes of public code (SQLAlchemy's cloning traversals,
Werkzeug's multipart writer) and on the ways a closure really escapes."""

from __future__ import annotations

import pytest

from tests.helpers import graded

PASSED = "the closure is only passed to calls in `{}()` (a key or visitor function run during the call, as far as the module shows)"
NEVER = "the closure never leaves `{}()`: only one call can run it"
LEAVES = "the closure leaves its function and may be called from any thread"
THREAD = "the closure is handed to a thread"

STAYS = [
    pytest.param(
        # sqlalchemy/sql/annotation.py _deep_deannotate: recursion through a keyword argument,
        # then `clone = None` to break the reference cycle
        """\
        def deep_copy(element, values=None):
            cloned = {}

            def clone(elem, **kw):
                key = id(elem)
                if key not in cloned:
                    newelem = elem._deannotate(values=values, clone=True)
                    newelem._copy_internals(clone=clone)
                    cloned[key] = newelem
                    return newelem
                return cloned[key]

            if element is not None:
                element = clone(element)
            clone = None  # remove gc cycles
            return element
        """,
        [("FT002", 6, "low", PASSED.format("deep_copy"))],
        id="sqlalchemy-clone-rebound-to-none",
    ),
    pytest.param(
        # werkzeug/test.py stream_encode_multipart: annotated, and rebound in the other branch
        """\
        from io import BytesIO
        from typing import Callable

        def encode(parts, use_tempfile=True, threshold=500):
            stream = BytesIO()
            total_length = 0
            write_binary: Callable[[bytes], int]

            if use_tempfile:

                def write_binary(s):
                    nonlocal total_length
                    stream.write(s)
                    total_length += len(s)
                    return len(s)

            else:
                write_binary = stream.write

            for part in parts:
                write_binary(part)
            return stream
        """,
        [("FT001", 14, "low", NEVER.format("encode"))],
        id="werkzeug-annotated-and-rebound",
    ),
    pytest.param(
        """\
        def collect(expr, traverse):
            found = []

            def visit(col):
                if col not in found:
                    found.append(col)

            visitors = {}
            visitors["column"] = visit
            handlers = [visit]
            for handler in handlers:
                handler(expr)
            traverse(expr, visitors)
            return found
        """,
        [("FT002", 5, "low", PASSED.format("collect"))],
        id="stored-in-local-containers-then-passed",
    ),
    pytest.param(
        """\
        def order(items):
            seen = set()

            def key(item):
                if item not in seen:
                    seen.add(item)
                return item

            return sorted(items, key=lambda i: key(i))
        """,
        [("FT002", 5, "low", PASSED.format("order"))],
        id="called-from-a-lambda-passed-to-sorted",
    ),
]

ESCAPES = [
    pytest.param(
        """\
        class Conn:
            def open(self):
                pending = []

                def on_data(chunk):
                    if chunk not in pending:
                        pending.append(chunk)

                self.on_data = on_data
        """,
        [("FT002", 6, "medium", LEAVES)],
        id="stored-on-self",
    ),
    pytest.param(
        """\
        class Conn:
            def open(self):
                pending = []

                def on_data(chunk):
                    if chunk not in pending:
                        pending.append(chunk)

                self.listeners.append(on_data)
        """,
        [("FT002", 6, "medium", LEAVES)],
        id="appended-to-an-attribute",
    ),
    pytest.param(
        """\
        def make_naming():
            names = set()

            def go(name):
                if name not in names:
                    names.add(name)
                return name

            table = {"go": go}
            return table
        """,
        [("FT002", 5, "medium", LEAVES)],
        id="local-container-returned",
    ),
    pytest.param(
        """\
        def watch(future):
            seen = []

            def done(f):
                if f not in seen:
                    seen.append(f)

            future.add_done_callback(done)
        """,
        [("FT002", 5, "medium", LEAVES)],
        id="registered-as-a-callback",
    ),
    pytest.param(
        """\
        def routes(app):
            hits = {}

            @app.route("/<page>")
            def index(page):
                if page not in hits:
                    hits[page] = 0

            return app
        """,
        [("FT002", 6, "medium", LEAVES)],
        id="decorated-by-a-registry",
    ),
    pytest.param(
        """\
        def routes(app):
            hits = {}

            def index(page):
                if page not in hits:
                    hits[page] = 0

            app.route("/<page>")(index)
            return app
        """,
        [("FT002", 5, "medium", LEAVES)],
        id="given-to-a-decorator-by-hand",
    ),
    pytest.param(
        """\
        import threading

        def run():
            n = 0

            def bump():
                nonlocal n
                n += 1

            threading.Thread(target=lambda: bump()).start()
        """,
        [("FT001", 8, "high", THREAD)],
        id="called-by-a-lambda-run-in-a-thread",
    ),
    pytest.param(
        """\
        import asyncio

        async def run():
            n = 0

            def bump():
                nonlocal n
                n += 1

            await asyncio.to_thread(bump)
            await asyncio.to_thread(bump)
        """,
        [("FT001", 8, "high", THREAD)],
        id="asyncio-to-thread",
    ),
    pytest.param(
        """\
        import threading
        from functools import partial

        def run():
            n = 0

            def bump(k):
                nonlocal n
                n += k

            threading.Thread(target=partial(bump, 2)).start()
        """,
        [("FT001", 9, "high", THREAD)],
        id="wrapped-by-partial-for-a-thread",
    ),
]


@pytest.mark.parametrize(("code", "expected"), STAYS + ESCAPES)
def test_closure_grading(code, expected):
    assert graded(code) == expected
