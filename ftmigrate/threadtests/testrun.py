"""One pytest run of a tree in the venv, that survives crashes and hangs.

Our plugin (``target/plugin``) logs each test's start and result to an events file as it
happens. A test still running after ``timeout`` seconds is a hang: the process group is
killed. A process that dies in the middle of a test crashed in it. Either way pytest is
started again without the tests already done, so one bad test does not hide the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ftmigrate.threadtests.env import TARGET_DIR, ProjectEnv

PLUGIN_DIR = TARGET_DIR / "plugin"
MAX_RESTARTS = 25
POLL_SECONDS = 0.2
# pytest's exit codes that mean "ran": 0 all passed, 1 some failed, 5 none collected.
_RAN = (0, 1, 5)
_PHASE_RANK = {"passed": 0, "skipped": 1, "failed": 2}


@dataclass
class Outcome:
    """One test in one run: passed, failed, error (setup/teardown), skipped, crash or hang."""

    status: str
    message: str | None = None
    text: str = ""
    locations: list[list] = field(default_factory=list)  # [absolute path, line] of its traceback


@dataclass
class PytestRun:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    thread_unsafe: dict[str, str] = field(default_factory=dict)  # pytest-run-parallel ran these single-threaded
    gil_enabled: bool | None = None
    problems: list[str] = field(default_factory=list)  # pytest could not run (usage, collection, internal error)
    addopts: list[str] = field(default_factory=list)  # from the project's pytest config and PYTEST_ADDOPTS
    seconds: float = 0.0


def _merge(previous: Outcome | None, event: dict) -> Outcome:
    """A test's outcome from its phases: a failed setup or teardown is an error; the worst phase wins."""
    status = event["outcome"]
    if status == "failed" and event["when"] != "call":
        status = "error"
    new = Outcome(status, event.get("message"), event.get("text", ""), event.get("locations", []))
    if previous is None:
        return new
    rank = lambda o: 3 if o.status == "error" else _PHASE_RANK.get(o.status, 0)  # noqa: E731
    return new if rank(new) > rank(previous) else previous


class _Session:
    """Follows one pytest process through its events file."""

    def __init__(self, events: Path, result: PytestRun, on_test: Callable[[str, Outcome], None]) -> None:
        self.events, self.result, self.on_test = events, result, on_test
        self.offset = 0
        self.current: str | None = None
        self.started = 0.0
        self.finished_session = False

    def read(self) -> None:
        if not self.events.exists():
            return
        with open(self.events, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written is read next time
        self.offset += len(complete)
        for line in complete.decode("utf-8").splitlines():
            self._event(json.loads(line))

    def _event(self, event: dict) -> None:
        kind = event["event"]
        if kind == "start":
            self.current, self.started = event["nodeid"], time.monotonic()
        elif kind == "report":
            self.result.outcomes[event["nodeid"]] = _merge(self.result.outcomes.get(event["nodeid"]), event)
        elif kind == "finish":
            self.current = None
            outcome = self.result.outcomes.get(event["nodeid"])
            if outcome is not None:
                self.on_test(event["nodeid"], outcome)
        elif kind == "config":
            self.result.addopts = event["addopts"]
        elif kind == "session":
            self.finished_session = True
            self.result.gil_enabled = event["gil_enabled"]
            self.result.thread_unsafe.update(event["thread_unsafe"])


def run_pytest(
    env: ProjectEnv,
    tree: Path,
    pytest_args: list[str],
    *,
    timeout: float,
    only: Iterable[str] | None = None,
    on_test: Callable[[str, Outcome], None] = lambda nodeid, outcome: None,
    check: Callable[[], None] = lambda: None,
) -> PytestRun:
    """Run pytest in ``tree``; ``only``: just these node ids. Crashes and hangs become outcomes.
    ``check`` is called while pytest runs; whatever it raises (a batch being stopped) kills
    pytest's whole process group and goes on up."""
    result = PytestRun()
    begun = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ftmigrate-verify-") as scratch:
        work = Path(scratch)
        run_env = env.run_env()
        run_env.update(
            PYTHONPATH=str(PLUGIN_DIR),
            FTMIGRATE_VERIFY_EVENTS=str(work / "events.jsonl"),
            FTMIGRATE_VERIFY_SKIP=str(work / "skip.txt"),
        )
        if only is not None:
            (work / "only.txt").write_text("".join(f"{n}\n" for n in only), encoding="utf-8")
            run_env["FTMIGRATE_VERIFY_ONLY"] = str(work / "only.txt")
        cmd = [env.python, "-m", "pytest", "-p", "ftmigrate_verify_plugin", "-p", "no:cacheprovider", "-q", *pytest_args]
        for _ in range(MAX_RESTARTS + 1):
            (work / "skip.txt").write_text("".join(f"{n}\n" for n in result.outcomes), encoding="utf-8")
            (work / "events.jsonl").unlink(missing_ok=True)
            session = _Session(work / "events.jsonl", result, on_test)
            code, output = _follow(cmd, tree, run_env, work / "output.txt", session, timeout, check)
            if session.current is None:
                if not session.finished_session or code not in _RAN:
                    result.problems.append(f"pytest exited with code {code}:\n{output[-3000:]}")
                elif not result.outcomes and only is None:
                    result.problems.append("pytest collected no tests")
                break
            status = "hang" if code is None else "crash"
            message = f"still running after {timeout:g}s" if code is None else _crash_message(code)
            result.outcomes[session.current] = Outcome(status, message, output[-3000:])
            on_test(session.current, result.outcomes[session.current])
        else:
            result.problems.append(f"gave up after {MAX_RESTARTS} crashes or hangs")
    result.seconds = time.monotonic() - begun
    return result


def _crash_message(code: int) -> str:
    if code < 0:
        try:
            return f"the process died of {signal.Signals(-code).name}"
        except ValueError:
            return f"the process died of signal {-code}"
    return f"the process exited with code {code} in the middle of the test"


def _follow(cmd, tree: Path, run_env, output_path: Path, session: _Session, timeout: float, check) -> tuple[int | None, str]:
    """Run ``cmd`` until it exits (its exit code) or a test hangs (None, the group killed)."""
    hung = False
    with open(output_path, "w+b") as output:
        proc = subprocess.Popen(cmd, cwd=str(tree), env=run_env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while proc.poll() is None:
                time.sleep(POLL_SECONDS)
                session.read()
                check()
                if session.current is not None and time.monotonic() - session.started > timeout:
                    hung = True
                    break
        finally:
            if proc.poll() is None:
                _kill(proc)
        session.read()
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return (None if hung else proc.returncode), text


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
