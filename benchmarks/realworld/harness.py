"""One library through the whole harness: unpack, apply, classify locks, tests before/after."""

from __future__ import annotations

import resource
import time
import traceback
from pathlib import Path

from benchmarks.realworld import migrate, suites
from benchmarks.realworld.libraries import Library, unpack
from benchmarks.realworld.report import LibraryResult


def modes() -> list[str]:
    """Always ``safe`` (plain ``apply``); ``unsafe`` too once ``apply --unsafe-fixes`` exists."""
    return ["safe", "unsafe"] if migrate.has_unsafe_fixes() else ["safe"]


def run_library(library: Library, work: Path, *, tests: bool, test_modes: tuple[str, ...] = ("safe",)) -> dict:
    """Results of one library as a dict (see ``report.LibraryResult``); errors are recorded, not raised."""
    result = LibraryResult(library.name, library.version)
    folder = work / library.label
    started, cpu = time.monotonic(), _children_cpu()
    try:
        pristine = unpack(library, folder / "pristine")
        copies = {}
        for mode in modes():
            copies[mode] = unpack(library, folder / mode)
            scanned = migrate.scan(pristine, mode)
            result.migrations[mode] = migrate.apply(pristine, copies[mode], mode, scanned).to_dict()
        result.seconds["apply"] = round(time.monotonic() - started, 1)
        if tests and library.suite is not None:
            for mode in (m for m in test_modes if m in copies):
                _run_tests(library, folder, pristine, copies[mode], result, mode)
    except Exception as error:  # noqa: BLE001 - one library's failure is reported, the run goes on
        result.error = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    result.seconds["total"] = round(time.monotonic() - started, 1)
    result.seconds["cpu"] = round(_children_cpu() - cpu, 1)
    return result.to_dict()


def _children_cpu() -> float:
    """CPU seconds used so far by finished subprocesses (the load of a shared machine does not change it)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_tests(library: Library, folder: Path, pristine: Path, applied: Path, result: LibraryResult, mode: str) -> None:
    suffix = "" if mode == "safe" else f"-{mode}"
    before = suites.run_suite(library, pristine, folder / "junit-before.xml")
    after = suites.run_suite(library, applied, folder / f"junit-after{suffix}.xml")
    suite = {
        "subset": library.suite.subset,
        "mode": mode,
        "before": before.counts(),
        "after": after.counts(),
        "changed": suites.compare(before, after),
        "seconds": [round(before.seconds, 1), round(after.seconds, 1)],
        "imported": {"before": before.imported, "after": after.imported},
    }
    smoke = []
    for program in library.smoke:
        first = suites.run_smoke(library, pristine, program)
        second = suites.run_smoke(library, applied, program)
        smoke.append({"program": program, "mode": mode, "before": first.exit_code, "after": second.exit_code,
                      "output": second.output if second.exit_code else "",
                      "before_output": first.output if first.exit_code else ""})
    if mode == "safe" or result.suite is None:
        result.suite = suite
        result.smoke = smoke
    else:
        result.suite[f"after_{mode}"] = suite["after"]
        result.suite[f"changed_{mode}"] = suite["changed"]
        result.smoke.extend(smoke)
