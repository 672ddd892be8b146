"""pytest-xdist and verify: verify's runs are always in one pytest process.

pytest-run-parallel runs *one* test in many threads; pytest-xdist spreads *different* tests
over worker processes. Its README says it is not an alternative to xdist, and that xdist
with ``--iterations`` > 1 may run tests more times than intended. verify also needs the
process that runs a test to be the one it watches: it kills a hung test's process group,
restarts after a crash without the test that crashed, and maps every report to a test; an
xdist worker that dies is replaced and its test reported as an ordinary failure, so a crash
in threads would pass for a failure. So when the project's pytest configuration (``addopts``
in pytest.ini / pyproject.toml / tox.ini / setup.cfg, or ``PYTEST_ADDOPTS``) turns xdist on,
verify turns it off again with ``TURN_OFF`` (given after ``addopts``, so it wins; ``-p
no:xdist`` would instead make the config's ``-n`` an unknown option) and says so in the
report. xdist options in verify's own ``-- PYTEST_ARGS`` are a usage error.
"""

from __future__ import annotations

from typing import Sequence

from ftmigrate.threadtests import VerifyError

TURN_OFF = ("-n", "0", "--dist", "no")
_PLUGIN_NAMES = ("xdist", "xdist.plugin")
_WITH_VALUE = ("-n", "--numprocesses", "--dist", "--tx", "--maxprocesses")


def xdist_options(args: Sequence[str]) -> list[str]:
    """The options in ``args`` that make pytest-xdist distribute tests (``-n 0``, ``--dist no``
    and ``-p no:xdist`` do not), as written: ``["-n", "2"]``, ``["--dist=loadfile"]``."""
    found: list[str] = []
    args = list(args)
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in _WITH_VALUE:
            if not eq and i + 1 < len(args):
                i += 1
                value = args[i]
                given = [arg, value]
            else:
                given = [arg]
            if not (name in ("-n", "--numprocesses") and value == "0") and not (name == "--dist" and value == "no"):
                found += given
        elif arg.startswith("-n") and len(arg) > 2 and arg[2:] != "0":  # -n4, -nauto
            found.append(arg)
        elif arg == "-p" and i + 1 < len(args):
            i += 1
            if args[i] in _PLUGIN_NAMES:
                found += ["-p", args[i]]
        elif arg.startswith("-p") and arg[2:] in _PLUGIN_NAMES:
            found.append(arg)
        i += 1
    return found


def refuse_in_user_args(pytest_args: Sequence[str]) -> None:
    """``-- -n 4``: verify cannot honour it; exit 2 rather than ignore it."""
    found = xdist_options(pytest_args)
    if found:
        raise VerifyError(
            f"pytest-xdist's {' '.join(found)} cannot be used with verify: it runs every test in threads "
            "(pytest-run-parallel) inside one pytest process it watches for crashes and hangs. "
            "Leave it out (verify turns xdist off by itself when the project's pytest config turns it on)."
        )
