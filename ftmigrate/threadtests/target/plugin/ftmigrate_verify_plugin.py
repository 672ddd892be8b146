"""Loaded into the user's pytest (``-p ftmigrate_verify_plugin``) inside verify's venv.

Writes one JSON line per event to ``$FTMIGRATE_VERIFY_EVENTS`` and flushes it at once, so
the parent still knows which test was running when the process crashed or hung:
``config`` (the ``addopts`` pytest read from the project's config file and
``PYTEST_ADDOPTS``), ``start`` (a test began), ``report`` (a phase ended: outcome, message, the files and lines
of its traceback), ``session`` (whether the GIL is on, which tests pytest-run-parallel ran
single-threaded and why). ``$FTMIGRATE_VERIFY_SKIP`` / ``$FTMIGRATE_VERIFY_ONLY`` name files
of node ids to deselect / to keep (restarts after a crash, reruns of thread failures).

Runs on the target interpreter with only pytest installed: standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time

_FILE_LINE = re.compile(r'^(?:\s*File "(?P<a>[^"]+)", line (?P<b>\d+)|(?P<c>[^\s:][^:]*\.py):(?P<d>\d+):)', re.M)
_events = None


def _emit(**event) -> None:
    global _events
    path = os.environ.get("FTMIGRATE_VERIFY_EVENTS")
    if not path:
        return
    if _events is None:
        _events = open(path, "a", encoding="utf-8")
    event["t"] = time.time()
    _events.write(json.dumps(event) + "\n")
    _events.flush()


def _read_ids(variable: str):
    path = os.environ.get(variable)
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n") for line in f if line.strip()}


def pytest_configure(config):
    addopts = list(config.getini("addopts")) + shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    _emit(event="config", addopts=addopts)


def pytest_collection_modifyitems(session, config, items):
    skip, only = _read_ids("FTMIGRATE_VERIFY_SKIP") or set(), _read_ids("FTMIGRATE_VERIFY_ONLY")
    keep, drop = [], []
    for item in items:
        (drop if item.nodeid in skip or (only is not None and item.nodeid not in only) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session):
    _emit(event="collected", count=len(session.items), rootdir=str(session.config.rootpath))


def pytest_runtest_logstart(nodeid, location):
    _emit(event="start", nodeid=nodeid)


def _locations(report, rootdir: str):
    found, seen = [], set()

    def add(path, line):
        path = os.path.normpath(os.path.join(rootdir, path))
        if (path, line) not in seen:
            seen.add((path, line))
            found.append([path, line])

    longrepr = report.longrepr
    chain = getattr(longrepr, "chain", None)
    tracebacks = [element[0] for element in chain] if chain else [getattr(longrepr, "reprtraceback", None)]
    for traceback in tracebacks:
        for entry in getattr(traceback, "reprentries", None) or []:
            location = getattr(entry, "reprfileloc", None)
            if location is not None:
                add(str(location.path), int(location.lineno))
    if not found:
        for match in _FILE_LINE.finditer(report.longreprtext or ""):
            add(match.group("a") or match.group("c"), int(match.group("b") or match.group("d")))
    return found


def pytest_runtest_logreport(report):
    if report.when != "call" and report.outcome == "passed":
        return
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    message = getattr(crash, "message", None)
    if message is None and report.outcome == "skipped" and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
    event = dict(event="report", nodeid=report.nodeid, when=report.when, outcome=report.outcome, message=message)
    if report.outcome == "failed":
        event["text"] = (report.longreprtext or "")[-6000:]
        event["locations"] = _locations(report, os.getcwd())  # pytest writes paths relative to the working folder
    _emit(**event)


def pytest_runtest_logfinish(nodeid, location):
    _emit(event="finish", nodeid=nodeid)


def pytest_sessionfinish(session, exitstatus):
    plugin = session.config.pluginmanager.get_plugin("_run-parallel")
    unsafe = dict(getattr(plugin, "thread_unsafe", None) or {})
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    _emit(event="session", exitstatus=int(exitstatus), gil_enabled=gil, thread_unsafe=unsafe)
