"""The harness's results as text, JSON and the README's Markdown table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LibraryResult:
    name: str
    version: str
    migrations: dict = field(default_factory=dict)  # mode -> Migration.to_dict()
    suite: dict | None = None  # {"subset", "before", "after", "changed", "seconds"}
    smoke: list = field(default_factory=list)  # [{"program", "before", "after", "output"}]
    error: str | None = None
    seconds: dict = field(default_factory=dict)  # "apply": unpack, scan and apply; "total"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in counts.items()) or "none"


def _tests_cell(result: dict) -> str:
    suite = result.get("suite")
    parts = []
    if suite and suite["before"]:
        same = "identical" if not suite["changed"] else f"**{len(suite['changed'])} changed**"
        parts.append(f"{_counts(suite['before'])} / {_counts(suite['after'])} ({same})")
    for smoke in result.get("smoke", []):
        parts.append(f"smoke `{smoke['program']}`: {'ok' if smoke['before'] == 0 else 'FAIL'} / "
                     f"{'ok' if smoke['after'] == 0 else '**FAIL**'}")
    return "; ".join(parts) or "not run"


def _unproven(migration: dict) -> int:
    """Inserted locks that are not a dedicated or proven threading lock, or may not exist where taken."""
    counts = migration["lock_counts"]
    return counts["unproven"] + counts["unbound"]


def _fixes_cell(migration: dict) -> str:
    fixes, shown = migration.get("fixes", 0), migration.get("scan_fixable", 0)
    return str(fixes) if fixes == shown else f"{fixes} (scan showed {shown} fixable)"


def _safety_cell(migration: dict) -> str:
    safety = migration.get("fixes_by_safety") or {}
    return " / ".join(f"{count} {name}" for name, count in sorted(safety.items())) or "not reported"


def markdown(results: list[dict]) -> str:
    lines = [
        "| library | version | tests before / after `apply` | fixes applied | safe / unsafe fixes | unproven locks |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        migration = result["migrations"].get("safe", {})
        bad = " / ".join(str(_unproven(m)) for m in result["migrations"].values())
        if result.get("error"):
            lines.append(f"| {result['name']} | {result['version']} | error: {result['error'][:80]} | | | |")
            continue
        lines.append(f"| {result['name']} | {result['version']} | {_tests_cell(result)} | "
                     f"{_fixes_cell(migration)} | {_safety_cell(result['migrations'].get('unsafe', migration))} | {bad} |")
    return "\n".join(lines) + "\n"


def text(results: list[dict]) -> str:
    out = []
    for result in results:
        out.append(f"{result['name']} {result['version']} ({result.get('seconds', {}).get('total', 0):.0f}s, "
                   f"{result.get('seconds', {}).get('cpu', 0):.0f}s CPU)")
        if result.get("error"):
            out.append(f"  error: {result['error']}")
        for mode, migration in result["migrations"].items():
            counts = migration["lock_counts"]
            out.append(
                f"  apply ({mode}): {migration['files_changed']} files changed, {migration['fixes']} fixes "
                f"(scan: {migration['scan_fixable']} fixable of {sum(migration['scan_findings'].values())} findings "
                f"{migration['scan_findings']}), safety {migration['fixes_by_safety'] or 'not reported'}, "
                f"{migration['tool_errors']} tool errors, {len(migration['compile_errors'])} compile errors")
            out.append("    inserted locks: " + ", ".join(f"{count} {name}" for name, count in counts.items()))
            for lock in migration["locks"]:
                if lock["kind"] == "unproven" or lock["flags"]:
                    out.append(f"      {lock['kind']:9} {' '.join(lock['flags']):9} {lock['path']}:{lock['line']} "
                               f"{lock['function']}: with {lock['lock']}")
        suite = result.get("suite")
        if suite:
            out.append(f"  tests ({suite['subset']}): before {_counts(suite['before'])}; after {_counts(suite['after'])}"
                       f"; {suite['seconds'][0]:.0f}s + {suite['seconds'][1]:.0f}s")
            for test_id, (before, after) in suite["changed"].items():
                out.append(f"    {before} -> {after}: {test_id}")
        for smoke in result.get("smoke", []):
            out.append(f"  smoke {smoke['program']}: exit {smoke['before']} before, {smoke['after']} after")
            if smoke["after"] != 0:
                out.append("    " + smoke["output"].strip().splitlines()[-1][:300] if smoke["output"].strip() else "")
    return "\n".join(out) + "\n"


def totals(results: list[dict]) -> dict[str, int]:
    """The numbers the tests assert on, over every library and mode."""
    total = {"libraries": len(results), "unproven": 0, "unbound": 0, "in_async": 0, "nested": 0,
             "compile_errors": 0, "fixes_not_in_scan": 0, "changed_tests": 0, "failed_smoke": 0, "errors": 0}
    for result in results:
        total["errors"] += bool(result.get("error"))
        for migration in result["migrations"].values():
            for name in ("unproven", "unbound", "in_async", "nested"):
                total[name] += migration["lock_counts"][name]
            total["compile_errors"] += len(migration["compile_errors"])
            total["fixes_not_in_scan"] += max(0, migration["fixes"] - migration["scan_fixable"])
        if result.get("suite"):
            total["changed_tests"] += len(result["suite"]["changed"])
        total["failed_smoke"] += sum(smoke["after"] != 0 for smoke in result.get("smoke", []))
    return total
