"""`batch --verify`'s columns, from verify's json report to report.md/report.json (no interpreter needed)."""

from __future__ import annotations

import json

from ftmigrate.batch.model import BatchOptions, RepoResult, VerifySettings, VerifySummary
from ftmigrate.batch.report import as_dict, as_markdown, exit_code, verify_row
from ftmigrate.batch.verifyrun import summarize

SETTINGS = VerifySettings(python="/py/python3.13t", threads=4, iterations=2, timeout=30.0)


def verify_report(*, gil_off=True, problems=(), comparison=True) -> dict:
    """Verify's json report (only the parts ``summarize`` reads) for a migrated tree and HEAD."""
    after = {"counts": {"crashes in threads": 1, "flaky in threads": 2, "fails without threads": 1, "passes": 7},
             "problems": list(problems), "xdist_turned_off": ["-n", "auto"]}
    before = {"counts": {"fails only in threads": 2, "passes": 9}, "problems": []}
    return {
        "gil": {"stays_off": gil_off, "reenabled_by": [] if gil_off else ["gilly", "_fast.ext"]},
        "trees": [after, before] if comparison else [after],
        "comparison": {"fixed": ["t.py::a", "t.py::b"], "broken": ["t.py::c"], "still_failing": []} if comparison else None,
        "exit_code": 1,
    }


def test_summary_counts_the_migrated_tree_and_the_comparison():
    assert summarize(verify_report()) == VerifySummary(
        gil_stays_off=True, gil_reenabled_by=[], passes=7, fails_only_in_threads=0, flaky=2, crashes=1, hangs=0,
        fixed=["t.py::a", "t.py::b"], broken=["t.py::c"], xdist_turned_off=["-n", "auto"], error=None, exit_code=1,
    )


def test_pytest_that_could_not_run_is_the_verify_error():
    problem = "pytest exited with code 4:\nImportError while loading conftest\n\nE   ModuleNotFoundError: No module named 'numpy'\n"
    summary = summarize(verify_report(problems=[problem], comparison=False))
    assert summary.error == ("pytest could not run: pytest exited with code 4:\nImportError while loading conftest\n\n"
                             "E   ModuleNotFoundError: No module named 'numpy'")
    assert (summary.fixed, summary.broken) == ([], [])


def test_rows():
    changed = RepoResult(name="app", source="/r/app", status="changed", verify=summarize(verify_report()))
    changed.verify.compared_with = "abc"
    clean = RepoResult(name="lib", source="/r/lib", status="clean", verify=summarize(verify_report(gil_off=False, comparison=False)))
    pip_error = "pip could not install /w/odd:\n" + "".join(f"line {n}\n" for n in range(1, 31))
    broken_env = RepoResult(name="odd", source="/r/odd", status="changed", verify=VerifySummary(error=pip_error))
    failed = RepoResult(name="bad", source="/r/bad", status="failed", error="not a git repository")
    assert [verify_row(r) for r in (changed, clean, broken_env, failed)] == [
        ["app", "stays off", "7", "0", "2", "1", "0", "2", "1", ""],
        ["lib", "re-enabled by gilly, _fast.ext", "7", "0", "2", "1", "0", "-", "-", ""],
        ["odd", "-", "-", "-", "-", "-", "-", "-", "-", "pip could not install /w/odd:"],
        ["bad", "-", "-", "-", "-", "-", "-", "-", "-", "-"],
    ]
    options = BatchOptions(output="/out", verify=SETTINGS)
    markdown = as_markdown([changed, clean, broken_env, failed], options, "local", 1.0).splitlines()
    at = markdown.index("## Free-threaded tests (`--verify`)")
    assert markdown[at + 2].startswith("`ftmigrate verify` with `/py/python3.13t`: each test alone, then in 4 threads x 2 iterations "
                                       "(a test still running after 30 s hangs)")
    assert markdown[at + 6:at + 10] == [
        "| app | stays off | 7 | 0 | 2 | 1 | 0 | 2 | 1 |  |",
        "| lib | re-enabled by gilly, _fast.ext | 7 | 0 | 2 | 1 | 0 | - | - |  |",
        "| odd | - | - | - | - | - | - | - | - | pip could not install /w/odd: |",
        "| bad | - | - | - | - | - | - | - | - | - |",
    ]
    assert "- verify turned pytest-xdist off (-n 0 --dist no) over the repository's pytest config: `-n auto`" in markdown
    odd = markdown.index("### odd")
    assert markdown[odd + 4: odd + 9] == ["Verify error (its last lines):", "", "```", "line 6", "line 7"]
    assert markdown[odd + 31: odd + 33] == ["line 30", "```"]
    assert "## Free-threaded tests (`--verify`)" not in as_markdown([failed], BatchOptions(output="/out"), "local", 1.0)


def test_json_and_resume_keep_the_verify_fields():
    result = RepoResult(name="app", source="/r/app", status="changed", verify=summarize(verify_report()))
    data = json.loads(json.dumps(as_dict([result], BatchOptions(output="/out", verify=SETTINGS), "local", 1.0)))
    assert data["options"]["verify"] == {"python": "/py/python3.13t", "threads": 4, "iterations": 2, "timeout": 30.0}
    assert data["repositories"][0]["verify"]["flaky"] == 2
    assert RepoResult.from_dict(data["repositories"][0]) == result  # what --resume reads back
    # a result made without --verify, or with other verify settings, is not reused by --resume
    keys = {BatchOptions(output="/out").key(), BatchOptions(output="/out", verify=SETTINGS).key(),
            BatchOptions(output="/out", verify=VerifySettings(python="/py/python3.13t", threads=8)).key()}
    assert len(keys) == 3


def test_exit_code_counts_verify():
    clean = VerifySummary(gil_stays_off=True, exit_code=0)
    assert exit_code([RepoResult(name="a", source="/a", status="changed", verify=clean)]) == 0
    assert exit_code([RepoResult(name="a", source="/a", status="changed", verify=summarize(verify_report()))]) == 1
    assert exit_code([RepoResult(name="a", source="/a", status="clean", verify=VerifySummary(error="pip failed"))]) == 1
    assert exit_code([RepoResult(name="a", source="/a", status="clean")]) == 0
