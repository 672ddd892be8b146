#!/usr/bin/env python3
"""Precision and recall of ``ftmigrate scan`` on the labelled corpus of public libraries.

    python scripts/precision.py [--markdown] [--library NAME ...] [--findings FILE]

Runs the current ``ftmigrate scan --format json`` (with ``--min-confidence low`` when the CLI
has that option) on each pinned library of ``benchmarks/corpus/libraries.toml`` (fetched by
``scripts/corpus.py``), keeps the findings in library code, and matches each to a label of
``benchmarks/corpus/labels.jsonl`` by library, path, rule and line; a label whose line moved is
re-anchored by its excerpt. Prints, by rule and by confidence level: findings reported,
judged real / benign / false, unjudged (no label: never counted as good), precision
(real / judged), precision counting benign as good, and the false rate. Recall: of the
recall-set sites (labels with a ``shape``) judged real or benign, the share that a finding
of the shape's rule covers. ``--findings FILE`` scores a saved JSON list instead of scanning.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import REPO, Library, is_library_code, load_libraries, read_labels  # noqa: E402

VERDICTS = ("real", "benign", "false")
LEVELS = ("high", "medium", "low")  # --min-confidence levels, surest first
DEFAULT_LEVELS = ("high", "medium")  # what a scan reports without --min-confidence
ANCHOR_WINDOW = 300  # how far (lines) a label's excerpt is looked for when its line moved

SourceLines = Callable[[str, str], list[str]]  # (library, path) -> the file's lines


def scan_options() -> list[str]:
    """``--min-confidence low`` when this ftmigrate has that option: every finding is scored."""
    help_text = run_ftmigrate(["scan", "--help"]).stdout
    return ["--min-confidence", "low"] if "--min-confidence" in help_text else []


def run_ftmigrate(args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "ftmigrate", *args], capture_output=True, text=True, env=env)


def scan_library(library: Library, options: list[str] | None = None) -> list[dict]:
    """The findings of ``ftmigrate scan`` on one unpacked library, paths relative to its root."""
    options = scan_options() if options is None else options
    proc = run_ftmigrate(
        ["scan", str(library.root), "--format", "json", "--no-cache", "--no-gitignore", "--exit-zero", *options]
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ftmigrate scan failed on {library.name}: {proc.stderr[-2000:]}")
    findings = json.loads(proc.stdout)["findings"]
    root = library.root.resolve()
    return [
        {
            "library": library.name, "version": library.version,
            "path": Path(f["path"]).resolve().relative_to(root).as_posix(),
            "line": f["line"], "end_line": f.get("end_line", f["line"]), "rule": f["rule"],
            "confidence": f.get("confidence", "n/a"), "message": f["message"],
        }
        for f in findings
    ]


def anchored_line(label: dict, lines: list[str]) -> int | None:
    """The label's line in the current file: its own line if the excerpt is still there, else
    the nearest line with that excerpt, else None (the site is gone)."""
    excerpt = label["excerpt"]

    def at(n: int) -> bool:
        return 0 < n <= len(lines) and lines[n - 1].strip()[: len(excerpt)] == excerpt

    for delta in range(ANCHOR_WINDOW + 1):
        for n in (label["line"] - delta, label["line"] + delta):
            if at(n):
                return n
    return None


@dataclass
class Tally:
    reported: int = 0
    verdicts: Counter = field(default_factory=Counter)  # real / benign / false / unjudged

    def add(self, verdict: str) -> None:
        self.reported += 1
        self.verdicts[verdict] += 1

    @property
    def judged(self) -> int:
        return sum(self.verdicts[v] for v in VERDICTS)

    def share(self, *verdicts: str) -> float | None:
        return sum(self.verdicts[v] for v in verdicts) / self.judged if self.judged else None


@dataclass
class Score:
    by_rule: dict[str, Tally]
    by_confidence: dict[str, Tally]
    total: Tally
    # shape -> [covered, real+benign sites, covered real, real sites, covered at the default level]
    recall: dict[str, list[int]]
    unjudged: list[dict]
    stale_labels: list[dict]  # labels whose excerpt is no longer found


def score(findings: list[dict], labels: list[dict], source_lines: SourceLines, only_set: str | None = None) -> Score:
    """Match findings (library code only) to labels and tally verdicts and recall. With
    ``only_set``, a finding counts as judged only through a label of that set."""
    anchored: dict[tuple, dict] = {}
    stale = []
    for label in labels:
        line = anchored_line(label, source_lines(label["library"], label["path"]))
        if line is None:
            stale.append(label)
        else:
            anchored[(label["library"], label["path"], label["rule"], line)] = label
    by_rule: dict[str, Tally] = {}
    by_confidence: dict[str, Tally] = {}
    total = Tally()
    unjudged = []
    for finding in findings:
        if not is_library_code(finding["path"]):
            continue
        label = anchored.get((finding["library"], finding["path"], finding["rule"], finding["line"]))
        if label is not None and only_set and only_set not in label.get("sets", ()):
            label = None
        verdict = label["verdict"] if label else "unjudged"
        if label is None:
            unjudged.append(finding)
        for table, key in ((by_rule, finding["rule"]), (by_confidence, finding.get("confidence", "n/a"))):
            table.setdefault(key, Tally()).add(verdict)
        total.add(verdict)
    at_default = [f for f in findings if f.get("confidence", "n/a") in DEFAULT_LEVELS]
    recall: dict[str, list[int]] = {}
    for (library, path, rule, line), label in anchored.items():
        if label.get("shape") and label["verdict"] in ("real", "benign"):

            def covered(found: list[dict]) -> bool:
                return any(
                    f["library"] == library and f["path"] == path and f["rule"] == rule
                    and f["line"] <= line <= f.get("end_line", f["line"])
                    for f in found
                )

            counts = recall.setdefault(label["shape"], [0, 0, 0, 0, 0])
            real = label["verdict"] == "real"
            counts[0] += covered(findings)
            counts[1] += 1
            counts[2] += real and covered(findings)
            counts[3] += real
            counts[4] += covered(at_default)
    return Score(by_rule, by_confidence, total, recall, unjudged, stale)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def weighted_share(tallies: dict[str, Tally], *verdicts: str) -> float | None:
    """A share over all findings, each group's judged share weighted by how many it reported:
    the estimate when groups were sampled at different rates (the sample is stratified by rule)."""
    groups = [t for t in tallies.values() if t.judged]
    reported = sum(t.reported for t in groups)
    return sum(t.reported * t.share(*verdicts) for t in groups) / reported if reported else None


def tally_row(name: str, tally: Tally) -> list[str]:
    v = tally.verdicts
    return [
        name, str(tally.reported), str(tally.judged), str(v["real"]), str(v["benign"]), str(v["false"]),
        str(v["unjudged"]), percent(tally.share("real")), percent(tally.share("real", "benign")),
        percent(tally.share("false")),
    ]


def tally_rows(tallies: dict[str, Tally], total: Tally) -> list[list[str]]:
    """One row per group (confidence levels surest first), then all, then the weighted estimate."""
    order = sorted(tallies, key=lambda k: (LEVELS.index(k) if k in LEVELS else len(LEVELS), k))
    rows = [tally_row(key, tallies[key]) for key in order]
    default = at_least(tallies, "medium")
    if default is not None:
        rows.append(tally_row("medium and high (the default)", default))
    rows.append(tally_row("all", total))
    if len(tallies) > 1:
        rows.append(["all, weighted by reported", str(total.reported), "", "", "", "", "",
                     *(percent(weighted_share(tallies, *vs)) for vs in (("real",), ("real", "benign"), ("false",)))])
    return rows


def at_least(tallies: dict[str, Tally], level: str) -> Tally | None:
    """What a scan with ``--min-confidence level`` reports; None unless grouped by level."""
    if not tallies or not set(tallies) <= set(LEVELS):
        return None
    total = Tally()
    for name in LEVELS[: LEVELS.index(level) + 1]:
        if name in tallies:
            total.reported += tallies[name].reported
            total.verdicts.update(tallies[name].verdicts)
    return total


def render(result: Score, markdown: bool) -> str:
    head = ["reported", "judged", "real", "benign", "false", "unjudged", "precision",
            "precision (real+benign)", "false rate"]
    tables = [
        (["rule", *head], tally_rows(result.by_rule, result.total)),
        (["confidence", *head], tally_rows(result.by_confidence, result.total)),
    ]
    levels = at_least(result.by_confidence, "medium") is not None

    def recall_row(name: str, counts: list[int]) -> list[str]:
        covered, sites, covered_real, real_sites, covered_default = counts
        row = [name, str(covered), str(sites), percent(covered / sites if sites else None),
               str(covered_real), str(real_sites), percent(covered_real / real_sites if real_sites else None)]
        return [*row, percent(covered_default / sites if sites else None)] if levels else row

    recall_rows = [recall_row(shape, counts) for shape, counts in sorted(result.recall.items())]
    recall_rows.append(recall_row("all", [sum(c[i] for c in result.recall.values()) for i in range(5)]))
    recall_head = ["shape (recall set)", "found", "real+benign sites", "recall", "real found", "real sites",
                   "recall (real)"]
    tables.append(([*recall_head, "recall (default level)"] if levels else recall_head, recall_rows))
    out = []
    for header, rows in tables:
        if markdown:
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "|".join(" --- " for _ in header) + "|")
            out.extend("| " + " | ".join(row) + " |" for row in rows)
        else:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            out.extend("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in [header, *rows])
        out.append("")
    if result.stale_labels:
        out.append(f"{len(result.stale_labels)} labels not found in the current sources (stale).")
    if not markdown:
        for f in result.unjudged:
            out.append(f"unjudged: {f['library']} {f['path']}:{f['line']} {f['rule']} [{f.get('confidence', 'n/a')}]")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print only the tables, as Markdown")
    parser.add_argument("--library", action="append", help="only this library (repeatable)")
    parser.add_argument("--findings", type=Path, help="score this saved JSON list of findings instead of scanning")
    parser.add_argument("--save-findings", type=Path, help="write the scanned findings here (JSON list)")
    parser.add_argument("--only-set", help="judge findings only by labels of this set (e.g. `sample`: the random "
                        "sample alone, an unbiased estimate); recall always uses the recall set")
    args = parser.parse_args(argv)
    libraries = [lib for lib in load_libraries() if not args.library or lib.name in args.library]
    by_name = {lib.name: lib for lib in libraries}
    from corpus import fetch

    for library in libraries:
        fetch(library)
    if args.findings:
        findings = [f for f in json.loads(args.findings.read_text()) if f["library"] in by_name]
    else:
        options = scan_options()
        findings = [f for library in libraries for f in scan_library(library, options)]
    if args.save_findings:
        args.save_findings.write_text(json.dumps(findings, indent=0))
    labels = [
        lb for lb in read_labels() if lb["library"] in by_name and lb["version"] == by_name[lb["library"]].version
    ]

    def source_lines(library: str, path: str) -> list[str]:
        file = by_name[library].root / path
        return file.read_text(encoding="utf-8", errors="replace").splitlines() if file.exists() else []

    result = score(findings, labels, source_lines, only_set=args.only_set)
    in_library = sum(1 for f in findings if is_library_code(f["path"]))
    if not args.markdown:
        print(f"{len(findings)} findings on {len(libraries)} libraries, {in_library} in library code "
              f"(tests, docs and examples are not scored); {len(labels)} labels.\n")
    sys.stdout.write(render(result, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
