"""Where `import threading` lands (isort's order) and what new locks are called."""

from __future__ import annotations

import libcst as cst
import pytest

from ftmigrate.imports import add_threading_import
from ftmigrate.locknames import MAX_LENGTH, candidates
from tests.helpers import fixed_text


@pytest.mark.parametrize(
    "before, after",
    [
        pytest.param("import logging\nimport os\n\nx = 1\n", "import logging\nimport os\nimport threading\n\nx = 1\n", id="after-the-last-that-sorts-before"),
        pytest.param("import logging\nimport uuid\n", "import logging\nimport threading\nimport uuid\n", id="between-plain-imports"),
        pytest.param(
            "import os\nfrom collections import deque\n\nimport requests\n",
            "import os\nimport threading\nfrom collections import deque\n\nimport requests\n",
            id="plain-imports-before-from-imports",
        ),
        pytest.param(
            "from collections import deque\nimport os\nfrom typing import Any\n",
            "from collections import deque\nimport os\nimport threading\nfrom typing import Any\n",
            id="force-sorted-group-by-module",
        ),
        pytest.param(
            '"""Doc."""\n\nimport requests\n\nfrom .app import x\n',
            '"""Doc."""\n\nimport threading\n\nimport requests\n\nfrom .app import x\n',
            id="own-group-before-third-party",
        ),
        pytest.param(
            "from __future__ import annotations\n\nimport typing\n",
            "from __future__ import annotations\n\nimport threading\nimport typing\n",
            id="first-of-the-stdlib-group-after-future",
        ),
        pytest.param(
            "from __future__ import annotations\nx = 1\n",
            "from __future__ import annotations\n\nimport threading\n\nx = 1\n",
            id="own-group-after-future-only",
        ),
    ],
)
def test_import_threading_goes_where_isort_puts_it(before, after):
    assert add_threading_import(cst.parse_module(before)).code == after


def test_lock_names_say_what_they_guard_and_stay_short():
    assert candidates(["_creation_counter"], "models", ["save"])[0] == "_creation_counter_lock"
    assert candidates(["cache_hits", "cache_misses"], "stats", ["get"])[0] == "_cache_lock"
    assert candidates(["requests_served", "bytes_sent"], "stats", ["record"])[:2] == ["_stats_lock", "_record_lock"]
    assert candidates(["_total"], "RequestHandler", ["add"]) == ["_total_lock", "_request_handler_lock", "_add_lock", "_state_lock"]
    long = candidates(["_SHOWN_STREAMING_WARNING_AND_MORE_WORDS_HERE"], None, ["f"])
    assert long[0] == "_shown_streaming_warning_lock" and all(len(name) <= MAX_LENGTH for name in long)


def test_a_taken_name_gives_the_next_clear_one_not_a_number():
    code = "counter = 0\n_counter_lock = 'taken'\n\ndef bump():\n    global counter\n    counter += 1\n"
    assert "_example_lock = threading.Lock()" in fixed_text(code, select=["FT001"])  # the module, example.py
