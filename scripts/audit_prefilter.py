#!/usr/bin/env python3
"""Audit rules' prefilters on a real tree: a file a prefilter rejects must have no site.

    python scripts/audit_prefilter.py [FOLDER] [--select FT002,FT003]

For every ``.py`` file under FOLDER (default: the running interpreter's standard
library) and every selected rule, this runs the text test (``Rule.prefilter``) and the
``ast`` test (``Rule.candidate``); for each file either one rejects, it runs ``check()``
on the file's ``ast`` anyway: any site there is a missed finding, printed with its line,
and the exit code is 1. It also prints how many files (and lines) each stage lets
through, which is what a prefilter is for. It is a tool for writing prefilters, not part
of the test suite, which checks the same on a sample (tests/test_fast_path.py).
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from codemods import select_rules  # noqa: E402
from ftmigrate.analysis import FileContext  # noqa: E402
from ftmigrate.parsing import syntax_tree  # noqa: E402
from ftmigrate.sourcefile import SourceError, read_source  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=sysconfig.get_path("stdlib"))
    parser.add_argument("--select", default=None, help="comma-separated rule codes (default: all)")
    args = parser.parse_args(argv)
    rules = select_rules(args.select.split(",") if args.select else None, [])
    files = sorted(p for p in Path(args.folder).rglob("*.py") if "site-packages" not in p.parts)
    counts = {rule.code: [0, 0, 0, 0] for rule in rules}  # text files, text lines, ast files, ast lines
    missed = 0
    warnings.simplefilter("ignore")
    for path in files:
        try:
            source = read_source(path)
            tree = syntax_tree(source.text, str(path))
        except SourceError:
            continue
        lines = source.text.count("\n")
        rejected = []
        for rule in rules:
            if not rule.prefilter(source.text):
                rejected.append(rule)
                continue
            counts[rule.code][0] += 1
            counts[rule.code][1] += lines
            if not rule.candidate(tree):
                rejected.append(rule)
                continue
            counts[rule.code][2] += 1
            counts[rule.code][3] += lines
        if not rejected:
            continue
        ctx = FileContext(tree, source.text, path)
        for rule in rejected:
            try:
                sites = list(rule.check(ctx))
            except RecursionError:
                print(f"SKIPPED {rule.code} {path}: too deeply nested for check()")
                continue
            for site in sites:
                missed += 1
                line = site.node.lineno
                print(f"MISSED {rule.code} {path}:{line}: {site.message}")
    total = sum(p.stat().st_size > 0 for p in files)
    print(f"{len(files)} files ({total} not empty)")
    for code, (text_files, text_lines, ast_files, ast_lines) in counts.items():
        print(f"{code}: text test passes {text_files} files ({text_lines:,} lines); ast test passes {ast_files} files ({ast_lines:,} lines)")
    print(f"{missed} missed sites")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
