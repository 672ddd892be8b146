"""verify's report: one dict (``--format json``), rendered as text or markdown from it."""

from __future__ import annotations

from collections import Counter

from ftmigrate.threadtests.compare import TreeResult
from ftmigrate.threadtests.gilcheck import GilCheck, NEEDS_GIL
from ftmigrate.threadtests.outcomes import ORDER, THREAD_PROBLEMS
from ftmigrate.threadtests.xdist import TURN_OFF

SCHEMA_VERSION = 1


def tree_dict(tree: TreeResult) -> dict:
    tests = []
    for v in tree.verdicts:
        entry = {
            "nodeid": v.nodeid, "verdict": v.verdict, "single": v.single, "threaded": v.rounds,
            "parallel": v.parallel, "thread_unsafe_reason": v.unsafe_reason,
        }
        if v.failure is not None:
            entry.update(message=v.failure.message, traceback=v.failure.text[-2000:], findings=v.findings)
        tests.append(entry)
    counts = Counter(v.verdict for v in tree.verdicts)
    return {
        "label": tree.label, "root": str(tree.root), "seconds": round(tree.seconds, 1),
        "gil_enabled_in_tests": tree.gil_enabled_in_tests, "problems": tree.problems, "apply": tree.apply,
        "counts": {verdict: counts[verdict] for verdict in ORDER if counts[verdict]},
        "thread_problems": sum(counts[v] for v in THREAD_PROBLEMS),
        "xdist_turned_off": tree.xdist_turned_off,
        "not_run_in_parallel": [{"nodeid": v.nodeid, "reason": v.unsafe_reason} for v in tree.verdicts if not v.parallel],
        "tests": tests,
    }


def build(*, project, python, settings, gil: GilCheck, trees: list[TreeResult], comparison: dict | None, exit_code: int) -> dict:
    return {
        "ftmigrate_verify": SCHEMA_VERSION,
        "project": str(project),
        "python": {"executable": python.executable, "version": python.version, "found_by": python.source},
        "settings": {"threads": settings.threads, "iterations": settings.iterations, "rounds": settings.rounds,
                     "timeout": settings.timeout, "pytest_args": settings.pytest_args},
        "gil": gil.to_dict(),
        "trees": [tree_dict(t) for t in trees],
        "comparison": comparison,
        "exit_code": exit_code,
    }


def _counts(tree: dict) -> str:
    total = sum(tree["counts"].values())
    parts = ", ".join(f"{n} {verdict}" for verdict, n in tree["counts"].items())
    return f"{total} tests: {parts or 'none collected'} ({tree['seconds']:g}s)"


def _apply_line(tree: dict) -> str:
    done = tree["apply"]
    if done is None:
        return ""
    files = ", ".join(done["changed_files"]) or "no file"
    return f" [apply fixed {done['fixed']} finding(s) in {files}; {done['not_fixed']} left]"


def _dependency_rows(data: dict) -> list[list[str]]:
    rows = []
    for d in data["gil"]["dependencies"]:
        detail = ", ".join(d["gil_modules"]) if d["kind"] == NEEDS_GIL else "; ".join(d["errors"])
        name = d["name"] + (" (this project)" if d["is_project"] else "")
        rows.append([name, d["version"], d["kind"], d["installed_from"], detail])
    return rows


def _gil_line(data: dict) -> str:
    gil = data["gil"]
    if gil["stays_off"]:
        return "GIL: stays off (no installed extension module re-enables it)"
    return f"GIL: RE-ENABLED on import of {', '.join(gil['reenabled_by'])}"


def _comparison_line(c: dict) -> str:
    return (
        f"{c['after']} vs {c['before']}: {len(c['fixed'])} thread failure(s) removed, "
        f"{len(c['still_failing'])} still failing, {len(c['broken'])} test(s) broken"
        + (f", {len(c['inconclusive'])} flaky on one side only (inconclusive)" if c["inconclusive"] else "")
    )


def _xdist_line(tree: dict) -> str:
    """Empty unless verify overrode the project's pytest-xdist options (``ftmigrate.threadtests.xdist``)."""
    if not tree.get("xdist_turned_off"):
        return ""
    return (f"pytest-xdist turned off for these runs ({' '.join(TURN_OFF)}) over the project's pytest config "
            f"({' '.join(tree['xdist_turned_off'])}): verify runs each test in threads in one process")


def render_text(data: dict) -> str:
    s = data["settings"]
    out = [f"ftmigrate verify {data['project']}: CPython {data['python']['version']} free-threaded "
           f"({data['python']['executable']}), {s['threads']} threads x {s['iterations']} iterations", "", _gil_line(data)]
    rows = _dependency_rows(data)
    widths = [max(len(r[i]) for r in rows) for i in range(4)] if rows else []
    for r in rows:
        out.append(("  " + "  ".join(r[i].ljust(widths[i]) for i in range(4)) + f"  {r[4]}").rstrip())
    for tree in data["trees"]:
        out += ["", f"{tree['label']}: {_counts(tree)}{_apply_line(tree)}"]
        out += [f"  {line}" for line in [_xdist_line(tree)] if line]
        for problem in tree["problems"]:
            first, *rest = problem.splitlines()
            out.append("  PROBLEM: " + first)
            out += [f"    {line}" for line in rest[-12:]]
        shown = None
        for t in tree["tests"]:
            if t["verdict"] not in THREAD_PROBLEMS:
                continue
            out.append(f"  {t['verdict'].upper()}: {t['nodeid']}  (alone: {t['single']}; in threads: {', '.join(t['threaded'])})")
            if t.get("message"):
                out.append(f"      {t['message'].splitlines()[0][:200]}")
            findings = t.get("findings", [])
            if findings and findings == shown:
                out.append(f"      ftmigrate: the same {len(findings)} finding(s) as above")
            for f in findings if findings != shown else ():
                out.append(f"      ftmigrate {f['rule']} {f['path']}:{f['line']} ({f['via']}): {f['message']}")
            shown = findings
        for t in tree["not_run_in_parallel"]:
            out.append(f"  not run in parallel: {t['nodeid']} ({t['reason']})")
    if data["comparison"]:
        out += ["", _comparison_line(data["comparison"])]
        for nodeid in data["comparison"]["broken"]:
            out.append(f"  BROKEN by the change: {nodeid}")
        for nodeid in data["comparison"]["inconclusive"]:
            out.append(f"  inconclusive (flaky): {nodeid}")
    out += ["", f"exit code {data['exit_code']}"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(data: dict) -> str:
    s = data["settings"]
    out = [f"## ftmigrate verify: `{data['project']}`", "",
           f"CPython {data['python']['version']} free-threaded, {s['threads']} threads x {s['iterations']} iterations.", "",
           f"**{_gil_line(data)}**", "", "| distribution | version | kind | installed from | detail |", "|---|---|---|---|---|"]
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in _dependency_rows(data)]
    for tree in data["trees"]:
        out += ["", f"### {tree['label']}", "", _counts(tree) + _apply_line(tree)]
        out += ["", line] if (line := _xdist_line(tree)) else []
        failing = [t for t in tree["tests"] if t["verdict"] in THREAD_PROBLEMS]
        if failing:
            out += ["", "| test | verdict | error | ftmigrate findings |", "|---|---|---|---|"]
            for t in failing:
                findings = "<br>".join(f"{f['rule']} `{f['path']}:{f['line']}`" for f in t.get("findings", []))
                message = (t.get("message") or "").splitlines()[0][:160] if t.get("message") else ""
                out.append(f"| `{_md(t['nodeid'])}` | {t['verdict']} | {_md(message)} | {findings} |")
        if tree["not_run_in_parallel"]:
            out += ["", "Not run in parallel: " + ", ".join(f"`{_md(t['nodeid'])}` ({_md(t['reason'])})" for t in tree["not_run_in_parallel"])]
        for problem in tree["problems"]:
            out += ["", f"Problem: {_md(problem.splitlines()[0])}"]
    if data["comparison"]:
        out += ["", f"**{_comparison_line(data['comparison'])}**"]
        out += [f"- broken: `{_md(n)}`" for n in data["comparison"]["broken"]]
    return "\n".join(out) + "\n"
