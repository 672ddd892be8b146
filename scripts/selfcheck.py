#!/usr/bin/env python3
"""Round-trip every rule over real code and report what went wrong, file by file.

    python scripts/selfcheck.py [PATH ...] [--json] [--select FT001,...]

PATH (default: the running interpreter's standard library, without site-packages) is
walked for ``*.py`` files. Each file is copied to a temporary folder and ``apply`` runs on
the copy with every registered rule, the way the CLI runs it; then it runs a second time.
A file fails one of these checks:

- crash: an exception, an internal error, or a per-file error on a file that compiles;
- compile: the rewritten code (written, or refused by the engine's verifier) does not compile;
- ast: the rewritten code is not the input plus lock code. The comparison is this script's
  own (``without_locking``), sharing no code with ``ftmigrate.verify``, which ``apply``
  uses: both modules' ASTs, with every ``with <name or attribute>:`` unwrapped, every
  ``X = [threading.]Lock()/RLock()``, ``import threading`` and ``from threading import
  Lock, RLock`` dropped and ``if T: if T: ...`` (no ``else``) collapsed, on both sides
  alike, must be equal once the rewrites the engine declares (``d.pop(k, None)`` for
  ``if k in d: del d[k]``, ...) are applied to the input;
- idempotent: the second ``apply`` changes the file again;
- import: (with ``--import-with PYTHON``, for modules of that interpreter's standard
  library) the original module imports on PYTHON but the rewritten one does not.

Files that do not compile on this interpreter in the first place (test data with bad
syntax or encodings) are "skipped"; valid files that ftmigrate declines, with its per-file
error, because LibCST cannot parse them, cannot reproduce them byte for byte, or they are
over the size limit, are "unsupported". Neither is a failure; both are listed. Exit
status 1 if any file fails.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import libcst as cst  # noqa: E402

from codemods import select_rules  # noqa: E402
from ftmigrate.config import Config  # noqa: E402
from ftmigrate.parsing import MAX_PARSE_BYTES  # noqa: E402
from ftmigrate.results import FileResult  # noqa: E402
from ftmigrate.runner import APPLY, run  # noqa: E402
from ftmigrate.sourcefile import SourceError, SourceFile, decode_source  # noqa: E402

CHECKS = ("crash", "compile", "ast", "idempotent", "import")
SKIPPED_FOLDERS = frozenset({"__pycache__"})


@dataclass
class Failure:
    path: str
    check: str  # one of CHECKS
    detail: str


@dataclass
class Report:
    files: int = 0
    changed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)  # rewritten modules imported on --import-with

    def counts(self) -> dict[str, int]:
        counts = {check: 0 for check in CHECKS}
        for failure in self.failures:
            counts[failure.check] += 1
        return counts

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "changed": self.changed,
            "skipped": len(self.skipped),
            "unsupported": len(self.unsupported),
            "counts": self.counts(),
            "failures": [asdict(f) for f in self.failures],
            "skipped_files": [{"path": p, "reason": r} for p, r in self.skipped],
            "unsupported_files": [{"path": p, "reason": r} for p, r in self.unsupported],
        }


def default_path() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def python_files(root: Path, skip_folders: frozenset[str] = SKIPPED_FOLDERS) -> list[Path]:
    """Every ``*.py`` file below ``root`` (or ``root`` itself), in a stable order."""
    if not root.is_dir():
        return [root]
    found = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_folders)
        found += [Path(folder) / name for name in sorted(filenames) if name.endswith(".py")]
    return found


def _compiles(text: str, name: str) -> str | None:
    """None if ``text`` compiles, else why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    except RecursionError:
        return "RecursionError: too deeply nested for the compiler"
    return None


_LOCK_FACTORIES = frozenset({"Lock", "RLock"})


def _creates_a_lock(stmt: ast.stmt) -> bool:
    """``X = threading.Lock()``, ``self._x_lock = RLock()`` and the like."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
        return False
    func = stmt.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in _LOCK_FACTORIES and not stmt.value.args and not stmt.value.keywords


def _each_block(node: ast.AST, change) -> None:
    """Replace each block of statements directly inside ``node`` (bodies, ``else``s,
    ``finally``s, ``except`` and ``case`` bodies) by ``change(block)``."""
    for name, value in ast.iter_fields(node):
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            setattr(node, name, change(value))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, (ast.excepthandler, ast.match_case)):
                    _each_block(item, change)


def _strip_locking(stmts: list[ast.stmt]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, ast.With) and len(stmt.items) == 1 and stmt.items[0].optional_vars is None:
            if isinstance(stmt.items[0].context_expr, (ast.Name, ast.Attribute)):
                out += _strip_locking(stmt.body)
                continue
        if _creates_a_lock(stmt):
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            threading = isinstance(stmt, ast.ImportFrom) and stmt.module == "threading"
            stmt.names = [a for a in stmt.names if a.name != "threading" and not (threading and a.name in _LOCK_FACTORIES)]
            if not stmt.names:
                continue
        _each_block(stmt, _strip_locking)
        if isinstance(stmt, ast.If) and not stmt.orelse and len(stmt.body) == 1 and isinstance(stmt.body[0], ast.If):
            inner = stmt.body[0]
            if not inner.orelse and ast.dump(inner.test) == ast.dump(stmt.test):
                stmt = inner
        out.append(stmt)
    return out


def _declared_rewrites_applied(stmts: list[ast.stmt], rewrites: dict[str, list[ast.stmt]]) -> list[ast.stmt]:
    """``stmts`` with each statement the engine says it rewrote replaced by its rewrite."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        if ast.dump(stmt) in rewrites:
            out += rewrites[ast.dump(stmt)]
            continue
        _each_block(stmt, lambda block: _declared_rewrites_applied(block, rewrites))
        out.append(stmt)
    return out


def without_locking(old: str, new: str, substitutions=()) -> tuple[str, str]:
    """The two modules' ASTs as compared by the ``ast`` check (equal when ``new`` is ``old``
    plus lock code and the declared ``substitutions``, (before, after) code pairs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old_tree, new_tree = ast.parse(old), ast.parse(new)
        rewrites = {ast.dump(ast.parse(before).body[0]): ast.parse(after).body for before, after in substitutions}
    old_tree.body = _strip_locking(_declared_rewrites_applied(old_tree.body, rewrites))
    new_tree.body = _strip_locking(new_tree.body)
    return ast.dump(old_tree), ast.dump(new_tree)


def _round_trip_problem(old: str, new: str, result: FileResult, name: str) -> tuple[str, str] | None:
    """(check, detail) if ``new`` is not ``old`` plus inserted lock code."""
    problem = _compiles(new, name)
    if problem is not None:
        return "compile", problem
    substitutions = result.inserted.substitutions if result.inserted is not None else ()
    before, after = without_locking(old, new, substitutions)
    if before != after:
        return "ast", "the rewritten code differs from the input beyond lock code"
    return None


_IMPORT_BOTH = """
import importlib, importlib.util, sys, warnings
warnings.simplefilter("ignore")
name, path = sys.argv[1], sys.argv[2]
try:
    original = importlib.import_module(name)
except BaseException as exc:
    print("original does not import:", type(exc).__name__)
    raise SystemExit(0)
spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=original.__spec__.submodule_search_locations)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
print("imported")
"""


def import_problem(python: str, module_name: str, rewritten: Path) -> str | None:
    """On interpreter ``python``: "" if ``rewritten`` (the rewrite of module ``module_name``
    of its standard library) imports in its place; None if the original does not import
    there either (nothing to compare); else why the rewrite does not import."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHON_GIL")}
    try:
        proc = subprocess.run(
            [python, "-I", "-B", "-X", "gil=0", "-c", _IMPORT_BOTH, module_name, str(rewritten)],
            capture_output=True, text=True, timeout=120, env=env, cwd=rewritten.parent.parent, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return "importing the rewritten module timed out"
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode == 0 and last == "imported":
        return ""
    if proc.returncode == 0 and last.startswith("original does not import"):
        return None
    return f"the rewritten module does not import on {python}: " + (proc.stderr.strip().splitlines() or ["?"])[-1]


def module_name(label: str) -> str | None:
    """The importable name of a standard-library file given by its relative path."""
    parts = label.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or parts[-1] == "__main__" or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _beyond_libcst(source: SourceFile) -> bool:
    """Valid Python that LibCST cannot parse, or not reproduce exactly, or too big to try."""
    if len(source.raw) > MAX_PARSE_BYTES:
        return True
    try:
        return cst.parse_module(source.text).code != source.text
    except cst.ParserSyntaxError:
        return True


def check_one(
    path: Path, rules: list, workdir: Path, label: str, import_with: str | None = None, imported: list[str] | None = None
) -> tuple[str, str] | bool | None:
    """Check one file: (check, detail) on failure, ("skipped" or "unsupported", reason),
    True if it was rewritten cleanly, None if there was nothing to rewrite. With
    ``import_with`` (an interpreter whose standard library ``label`` is relative to), a
    rewritten module must import on it when the original does (its name is then added
    to ``imported``)."""
    raw = path.read_bytes()
    try:
        source = decode_source(path, raw)
    except SourceError as exc:
        return "skipped", str(exc)
    problem = _compiles(source.text, label)
    if problem is not None:
        return "skipped", problem
    target = workdir / path.name
    target.write_bytes(raw)
    # Every site the rules find, fixed as far as the planner can: the rewriting machinery is
    # what is checked here, not which findings a default run shows or fixes.
    config = Config(root=workdir, min_confidence="low", unsafe_fixes=True)
    try:
        [first] = run([target], rules, config, APPLY).results
    except Exception:
        return "crash", traceback.format_exc(limit=-3).strip().replace("\n", " | ")
    if first.refused_text is not None:
        return _round_trip_problem(source.text, first.refused_text, first, label) or ("ast", first.error)
    if first.error is not None:
        return ("unsupported" if _beyond_libcst(source) else "crash"), first.error
    written = target.read_bytes()
    if written == raw:
        return None
    try:
        new_text = decode_source(target, written).text
    except SourceError as exc:
        return "compile", f"the written file cannot be read back: {exc}"
    if new_text != first.new_text or written != source.encode(first.new_text):
        return "compile", "the written bytes are not the rewritten text in the file's encoding"
    problem = _round_trip_problem(source.text, new_text, first, label)
    if problem is not None:
        return problem
    try:
        [second] = run([target], rules, config, APPLY).results
    except Exception:
        return "crash", "second apply: " + traceback.format_exc(limit=-3).strip().replace("\n", " | ")
    if second.error is not None:
        return "idempotent", f"second apply: {second.error}"
    if target.read_bytes() != written:
        return "idempotent", "the second apply changed the file again"
    name = module_name(label) if import_with else None
    if name is not None:
        problem = import_problem(import_with, name, target)
        if problem:
            return "import", problem
        if problem == "" and imported is not None:
            imported.append(name)
    return True


def selfcheck(
    files: list[Path], *, select: list[str] | None = None, base: Path | None = None, progress=None, import_with: str | None = None
) -> Report:
    rules = select_rules(select, [])
    report = Report()
    with tempfile.TemporaryDirectory(prefix="ftmigrate-selfcheck-") as tmp:
        for index, path in enumerate(files):
            label = path.relative_to(base).as_posix() if base is not None and path.is_relative_to(base) else path.as_posix()
            workdir = Path(tmp) / str(index)
            workdir.mkdir()
            outcome = check_one(path, rules, workdir, label, import_with, report.imported)
            report.files += 1
            if outcome is True:
                report.changed += 1
            elif isinstance(outcome, tuple) and outcome[0] == "skipped":
                report.skipped.append((label, outcome[1]))
            elif isinstance(outcome, tuple) and outcome[0] == "unsupported":
                report.unsupported.append((label, outcome[1]))
            elif isinstance(outcome, tuple):
                report.failures.append(Failure(label, *outcome))
            for leftover in workdir.iterdir():
                leftover.unlink()
            workdir.rmdir()
            if progress is not None:
                progress(index + 1, len(files), label)
    return report


def table(report: Report) -> str:
    columns = ["files", "changed", "skipped", "unsupported", *CHECKS]
    values = [report.files, report.changed, len(report.skipped), len(report.unsupported), *report.counts().values()]
    widths = [max(len(c), len(str(v))) for c, v in zip(columns, values)]
    head = "  ".join(c.rjust(w) for c, w in zip(columns, widths))
    row = "  ".join(str(v).rjust(w) for v, w in zip(values, widths))
    lines = [head, row]
    if report.unsupported:
        lines += ["", "unsupported (left untouched, with an error line):"]
        lines += [f"  {path}: {reason}" for path, reason in report.unsupported]
    if report.failures:
        lines += ["", "failing files:"]
        lines += [f"  {f.check:<10} {f.path}: {f.detail}" for f in report.failures]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the standard library)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--select", help="rule codes, comma-separated (default: every registered rule)")
    parser.add_argument("--progress", action="store_true", help="print each file to stderr as it is checked")
    parser.add_argument(
        "--import-with",
        metavar="PYTHON",
        help="also import each rewritten module on PYTHON (e.g. a 3.13t); PATH must be PYTHON's standard library",
    )
    args = parser.parse_args(argv)
    if args.paths:
        roots = args.paths
        files = [f for root in roots for f in python_files(root)]
    else:
        roots = [default_path()]
        files = python_files(roots[0], SKIPPED_FOLDERS | {"site-packages"})
    base = roots[0] if len(roots) == 1 and roots[0].is_dir() else None

    def progress(done: int, total: int, label: str) -> None:
        print(f"[{done}/{total}] {label}", file=sys.stderr, flush=True)

    select = [s for s in args.select.split(",") if s] if args.select else None
    report = selfcheck(files, select=select, base=base, progress=progress if args.progress else None, import_with=args.import_with)
    print(json.dumps(report.to_dict(), indent=2) if args.json else table(report))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
