#!/usr/bin/env python3
"""How fast is ``ftmigrate scan`` next to ruff, on a large tree? All measured in one run.

    python benchmarks/bench_scan.py [FOLDER] [--select CODES] [--jobs N] [--repeat N] [--json] [--skip-libcst]

FOLDER defaults to the running interpreter's standard library. Each tool runs as a
subprocess, so its start-up time counts, as ruff's does:

- ``ruff check --select PLW0603 --no-cache`` (the ``bench`` extra installs ruff),
- ``ftmigrate scan`` with an empty cache (cold), then again (warm: nothing changed),
- ``ftmigrate apply --diff --no-cache`` (writes nothing: a rewrite of every fixable file),
- a plain ``libcst.parse_module`` of every file in one process: what a scan that parsed
  every file with LibCST (as the rules did before they detected on ``ast``, issue 15) would
  cost at the very least; the steadiest yardstick on a machine whose speed swings.

ftmigrate runs with ``--no-gitignore`` and a throw-away ``--config`` whose folder holds
the cache (a pyenv-installed standard library sits in pyenv's git checkout, whose
.gitignore lists it; ruff does not look above the folder it is given). Each row shows the
median of ``--repeat`` runs: wall time, lines per second, CPU time (user + system, worker
processes included), peak memory and the ratio of the wall time to ruff's. Peak memory is
that of the largest single process (``getrusage``), and with psutil (in the ``bench``
extra) also the peak of all of a run's processes together, sampled every 10 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ftmigrate import __version__  # noqa: E402
from ftmigrate.discovery import discover  # noqa: E402

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is optional
    psutil = None

LIBCST_PARSE = """
import sys
import libcst
failed = 0
for name in sys.stdin.read().splitlines():
    with open(name, "rb") as fh:
        data = fh.read()
    try:
        libcst.parse_module(data)
    except Exception:
        failed += 1
print(failed)
"""


@dataclass
class Measure:
    name: str
    command: str
    wall: float
    cpu: float
    max_rss_mb: float
    tree_rss_mb: float | None
    exit_code: int
    ratio_to_ruff: float | None = None
    lines_per_second: float = 0.0


def run_once(argv: list[str], *, cwd: Path, stdin: str | None = None, env: dict | None = None) -> tuple[float, float, float, float | None, int]:
    """(wall s, cpu s, peak RSS MB of the largest process, peak RSS MB of all processes, exit code)."""
    peak = [0]
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
            while not stop.wait(0.01):
                total = 0
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak[0] = max(peak[0], total)
        except psutil.Error:
            pass

    sampler = threading.Thread(target=sample, daemon=True) if psutil is not None else None
    if sampler is not None:
        sampler.start()
    if stdin is not None:
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    if sampler is not None:
        sampler.join()
    cpu = usage.ru_utime + usage.ru_stime
    max_rss = usage.ru_maxrss / 1024  # KiB on Linux
    return wall, cpu, max_rss, (peak[0] / 2**20 if sampler is not None else None), proc.returncode


def ruff_command() -> list[str]:
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "ruff", scripts / "ruff.exe"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("ruff")
    if found:
        return [found]
    sys.exit("ruff is not installed: pip install -e '.[bench]'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=Path(sysconfig.get_path("stdlib")))
    parser.add_argument("--select", default=None, help="rule codes for ftmigrate, e.g. FT001 (default: all rules)")
    parser.add_argument("--jobs", type=int, default=None, help="passed to ftmigrate (default: its own, one per CPU)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the median is shown")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--skip-libcst", action="store_true", help="leave out the (slow) plain LibCST parse")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()

    files = discover([folder], exclude=[], root=folder, respect_gitignore=False).files
    lines = sum(path.read_bytes().count(b"\n") for path in files)  # also warms the page cache
    passed = ["--jobs", str(args.jobs)] if args.jobs else []
    passed += ["--select", args.select] if args.select else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    ftmigrate = [sys.executable, "-m", "ftmigrate"]

    rows: dict[str, list[tuple]] = {}
    commands: dict[str, str] = {}

    def record(name: str, argv: list[str], cwd: Path, stdin: str | None = None) -> None:
        commands[name] = " ".join(str(a) for a in argv)
        rows.setdefault(name, []).append(run_once(argv, cwd=cwd, stdin=stdin, env=env))

    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="ftmigrate-bench-") as tmp:
            work = Path(tmp)
            config = work / "ftmigrate.toml"
            config.write_text("")
            scan = [*ftmigrate, "scan", "--no-gitignore", "--config", str(config), *passed, str(folder)]
            record("ruff check --select PLW0603", [*ruff_command(), "check", "--select", "PLW0603", "--no-cache", str(folder)], work)
            record("ftmigrate scan (cold cache)", scan, work)
            record("ftmigrate scan (warm cache)", scan, work)
            record(
                "ftmigrate apply --diff --no-cache",
                [*ftmigrate, "apply", "--diff", "--no-cache", "--no-gitignore", "--config", str(config), *passed, str(folder)],
                work,
            )
            if not args.skip_libcst:
                record("LibCST parse of every file (1 process)", [sys.executable, "-c", LIBCST_PARSE], work,
                       stdin="\n".join(str(p) for p in files))

    measures = []
    for name, runs in rows.items():
        wall, cpu, max_rss, tree_rss, code = (statistics.median(v) if v[0] is not None else None for v in zip(*runs))
        measures.append(Measure(name, commands[name], wall, cpu, max_rss, tree_rss, int(code), lines_per_second=lines / wall))
    ruff_wall = measures[0].wall
    for m in measures:
        m.ratio_to_ruff = m.wall / ruff_wall

    if args.json:
        print(json.dumps({
            "folder": str(folder), "files": len(files), "lines": lines, "repeat": args.repeat, "select": args.select or "all",
            "ftmigrate": __version__, "python": sys.version.split()[0], "cpus": os.cpu_count(),
            "results": [asdict(m) for m in measures],
        }, indent=2))
        return 0
    print(f"{folder}: {len(files)} files, {lines:,} lines; rules: {args.select or 'all'}; {os.cpu_count()} CPUs; median of {args.repeat} run(s)")
    header = f"{'':40} {'wall s':>7} {'lines/s':>10} {'CPU s':>7} {'max RSS':>8} {'all RSS':>8} {'× ruff':>7}"
    print(header)
    print("-" * len(header))
    for m in measures:
        tree = f"{m.tree_rss_mb:6.0f}MB" if m.tree_rss_mb is not None else "     n/a"
        print(f"{m.name:40} {m.wall:7.2f} {m.lines_per_second:10,.0f} {m.cpu:7.2f} {m.max_rss_mb:6.0f}MB {tree} {m.ratio_to_ruff:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
