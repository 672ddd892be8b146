"""pytest plugin: the logging set-up of ``python -m tornado.test.runtests``.

tornado's tests assume its runner, which silences the access log; under plain pytest every
request's access line trips the tests' "no unexpected logs" check. Loaded with
``-p tornado_runtests`` (suites.py puts this folder on PYTHONPATH after the copy).
"""

import logging


def pytest_configure(config):
    logging.getLogger("tornado.access").setLevel(logging.CRITICAL)
