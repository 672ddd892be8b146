"""Run ftmigrate on public libraries and prove that `apply` keeps them working.

The libraries, pinned with their sdists' sha256, are listed in ``libraries.toml``; the
command line is ``scripts/realworld.py``. Modules: ``libraries`` (manifest, download,
unpack), ``migrate`` (scan and apply a copy), ``lockcheck`` (classify every inserted
``with``), ``suites`` (venvs, the library's own tests before and after, smoke programs),
``report`` (text, JSON, Markdown), ``harness`` (one library through all of
them); ``smoke/`` holds the smoke programs, ``plugins/`` pytest plugins some suites need.
"""
