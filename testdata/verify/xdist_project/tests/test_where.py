import os

import xdist_demo


def test_double():
    assert xdist_demo.double(21) == 42


def test_runs_in_the_pytest_process():
    # pytest-xdist's workers set PYTEST_XDIST_WORKER
    assert "PYTEST_XDIST_WORKER" not in os.environ


def test_crashes_in_threads(num_parallel_threads):
    # In an xdist worker a crash is an ordinary failure ("worker crashed"); verify must see it.
    if num_parallel_threads > 1:
        os.abort()
