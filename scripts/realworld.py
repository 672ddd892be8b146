#!/usr/bin/env python3
"""Prove `ftmigrate apply` on real code: public libraries' own tests before and after.

    python scripts/realworld.py [NAME ...] [--tests] [--locks-only] [--json FILE]
                                [--markdown] [--work DIR] [--unsafe-tests]

For each library of benchmarks/realworld/libraries.toml (or the NAMEs given): the pinned
sdist is downloaded with pip (cached under ~/.cache/ftmigrate/sdists, sha256 checked) and
unpacked; `ftmigrate apply` runs on a copy (and, if this ftmigrate has --unsafe-fixes, with
it on another copy); every inserted `with` is classified as a dedicated, proven or
unproven lock by benchmarks/realworld/lockcheck.py, which does not use ftmigrate's own
analysis. With --tests, the library's own test suite (or the documented subset) and its
smoke programs run against the pristine copy and against the applied copy; the outcome of
every test id must be the same.

Exit status: 0 when every library ran, no inserted lock is unproven or unbound, no
rewritten file fails to compile, and (with --tests) no test or smoke program changed its
outcome; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.realworld import libraries, report  # noqa: E402
from benchmarks.realworld.harness import run_library  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="libraries to run (default: all in the manifest)")
    parser.add_argument("--tests", action="store_true", help="run the libraries' tests and smoke programs before and after")
    parser.add_argument("--suites-only", action="store_true", help="only the libraries that have tests or smoke programs")
    parser.add_argument("--unsafe-tests", action="store_true", help="also run the tests after apply --unsafe-fixes")
    parser.add_argument("--json", type=Path, help="write every result to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="print the README's table instead of the text report")
    parser.add_argument("--from-json", type=Path, help="report on a JSON file written earlier instead of running")
    parser.add_argument("--work", type=Path, help="folder for the copies (default: a temporary folder)")
    options = parser.parse_args(argv)

    if options.from_json:
        results = json.loads(options.from_json.read_text())["results"]
    else:
        chosen = libraries.select(libraries.load(), options.names)
        if options.suites_only:
            chosen = [library for library in chosen if library.suite is not None]
        test_modes = ("safe", "unsafe") if options.unsafe_tests else ("safe",)
        with tempfile.TemporaryDirectory(prefix="ftmigrate-realworld-") as temporary:
            work = options.work or Path(temporary)
            results = []
            for library in chosen:
                print(f"== {library.label}", file=sys.stderr, flush=True)
                results.append(run_library(library, work, tests=options.tests, test_modes=test_modes))
    totals = report.totals(results)
    if options.json:
        options.json.write_text(json.dumps({"totals": totals, "results": results}, indent=1))
    if options.markdown:
        print(report.markdown(results), end="")
    else:
        print(report.text(results), end="")
        print("totals: " + ", ".join(f"{name} {count}" for name, count in totals.items()))
    bad = sum(count for name, count in totals.items() if name != "libraries")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
