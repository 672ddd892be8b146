"""`ftmigrate verify`: the project's own tests on free-threaded CPython, single-threaded and
in many threads at once (pytest-run-parallel), before and after `apply`, with a GIL check of
every installed distribution.

``env`` builds the venv, ``gilcheck`` imports each distribution, ``testrun`` runs pytest and
survives crashes and hangs, ``outcomes`` gives each test its verdict, ``evidence`` links a
thread failure to ftmigrate's findings, ``trees`` makes the tree to compare with (`apply` on a
copy, or a git ref), ``compare`` runs a tree and compares two, ``report`` renders
text/json/markdown, ``progress`` talks on stderr, ``command`` ties them together for the CLI.
What runs inside the venv lives in ``target/`` (standard library only).
"""


class VerifyError(Exception):
    """A usage or environment problem (no interpreter, pip failed, bad ref): exit 2."""
