"""A whole run: discover files, check (and fix) each, write results atomically.

Files are answered from the cache when it has them, and the rest are checked in a pool
of worker processes; the parent writes rewritten files, in discovery order.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol, Sequence

from ftmigrate.cache import Cache
from ftmigrate.config import Config
from ftmigrate.confine import ConfinementError, locate, tree_roots
from ftmigrate.discovery import Discovery, discover
from ftmigrate.firstpass import POOL_MIN_FILES, FirstLook, can_fork, digest_of, first_pass
from ftmigrate.project_index import ProjectIndex
from ftmigrate.results import FileResult
from ftmigrate.selection import RuleSelection
from ftmigrate.sourcefile import SourceError, os_reason, read_bytes, relative_posix, write_atomic

if TYPE_CHECKING:
    from ftmigrate.rules import Rule

SCAN, APPLY, DIFF = "scan", "apply", "diff"


@dataclass
class RunReport:
    mode: str
    results: list[FileResult] = field(default_factory=list)
    unsafe_fixes: bool = False  # unsafe fixes were planned (and, with apply, written) too
    warnings: list[str] = field(default_factory=list)  # about the run, not a file: on stderr

    @property
    def findings(self):
        return [f for r in self.results for f in r.findings]

    @property
    def errors(self) -> list[FileResult]:
        return [r for r in self.results if r.error is not None]

    @property
    def changed(self) -> list[FileResult]:
        return [r for r in self.results if r.changed and r.error is None]

    @property
    def files_checked(self) -> int:
        return sum(1 for r in self.results if r.checked)

    def exit_code(self) -> int:
        if any(r.internal for r in self.results):
            return 2
        if self.errors:
            return 1
        if self.mode == SCAN:
            return 1 if self.findings else 0
        if self.mode == DIFF:
            return 1 if self.changed else 0
        return 1 if any(not f.fixed for f in self.findings) else 0


class RunObserver(Protocol):
    """Told about a run as it goes (progress bar, --verbose); ``start`` gets the file count."""

    def start(self, total: int) -> None: ...

    def file_done(self, result: FileResult) -> None: ...

    def stop(self) -> None: ...


def display_path(path: Path) -> str:
    """Relative to the working directory when below it, so diffs apply with ``git apply -p1``."""
    relative = relative_posix(os.path.abspath(path), os.getcwd())
    return relative if relative is not None else path.as_posix()


def run(
    paths: Sequence[Path],
    rules: Sequence[Rule] | RuleSelection,
    config: Config,
    mode: str,
    *,
    force_exclude: bool = False,
    observer: RunObserver | None = None,
    jobs: int = 1,
    cache: bool = False,
    prefilter: bool = True,
) -> RunReport:
    """Check (and with APPLY, fix) every file ``paths`` lead to; results in discovery order.

    ``jobs`` > 1 spreads files over that many worker processes; ``cache`` answers
    unchanged files from ``.ftmigrate_cache/`` (see ``ftmigrate.cache``); ``prefilter=False``
    parses every file with LibCST (the plain path, for tests). Neither changes a result.
    """
    report = RunReport(mode=mode, unsafe_fixes=config.unsafe_fixes)
    found = discover(
        list(paths),
        exclude=config.exclude,
        root=config.root,
        respect_gitignore=config.respect_gitignore,
        force_exclude=force_exclude,
    )
    for path, reason in found.errors:
        report.results.append(FileResult(path=path, error=reason))
    if not found.files and not found.errors:
        report.warnings.append(nothing_checked(found))
    fix = mode != SCAN
    roots = tree_roots(paths, config.root if config.path is not None else None)
    work = [(path, display_path(path)) for path in found.files]
    analysis = config.analysis_options()
    passes = first_pass(found.files, config.root, rules, {"prefilter": prefilter, **analysis}, jobs=jobs, cache=cache)
    index = ProjectIndex((os.path.abspath(p), one.facts) for p, one in zip(found.files, passes))
    config.thread_evidence = index.evidence()
    store = Cache(config.root, _cache_settings(rules, config, prefilter)) if cache else None
    known: list[FileResult | None] = [None] * len(work)
    for i, ((path, _), one) in enumerate(zip(work, passes)):
        if one.quiet:
            known[i] = FileResult(path=path, checked=True)  # no rule wants the file
            if store is not None and one.key is not None:
                store.store(one.key, known[i])
    if store is not None and store.folder.is_dir():  # else nothing is cached yet: skip reading
        for i, ((path, display), one) in enumerate(zip(work, passes)):
            hit = store.load(one.key, path, display) if known[i] is None and one.key is not None else None
            if hit is not None and not (fix and any(f.fixable for f in hit.findings)):
                known[i] = hit  # a rewrite is never skipped: apply re-checks fixable files
    todo = [(path, display, one.look) for (path, display), one, hit in zip(work, passes, known) if hit is None]
    fresh: Iterator[FileResult] = iter(())
    if todo or not work:
        rules = rules.resolve() if isinstance(rules, RuleSelection) else list(rules)
        options = {"fix": fix, "prefilter": prefilter, **config.analysis_options()}
        fresh = check_files_parallel(todo, rules, options, jobs=jobs, store=store)
    if observer is not None:
        observer.start(len(found.files))
    try:
        for hit in known:
            result = hit if hit is not None else next(fresh)
            if fix and result.changed and result.error is None:
                _write(result, roots, dry=mode == DIFF)
            report.results.append(result)
            if observer is not None:
                observer.file_done(result)
    finally:
        if observer is not None:
            observer.stop()
    return report


def nothing_checked(found: Discovery) -> str:
    """Why a run checked no file: checking nothing is not passing (as ruff warns)."""
    if not found.excluded:
        return "no Python files found under the given paths"
    shown = "; ".join(f"{display_path(path)}{'/' * folder} by {why}" for path, folder, why in found.excluded_examples)
    more = f" and {found.excluded - len(found.excluded_examples)} more" if found.excluded > len(found.excluded_examples) else ""
    gitignored = any(why.endswith(".gitignore") for _, _, why in found.excluded_examples)
    hint = " (use --no-gitignore to include what .gitignore excludes)" if gitignored else ""
    return f"no Python files were checked: all were excluded: {shown}{more}{hint}"


def _write(result: FileResult, roots: Sequence[str], *, dry: bool) -> None:
    """Write a rewritten file (``dry``: only check it could be); a file that cannot be
    written keeps its error, and its fixes count as not made."""
    try:
        if dry:
            locate(result.path, roots)  # a diff never shows a change apply would refuse
        else:
            write_atomic(result.source, result.new_text, roots)
        return
    except (SourceError, ConfinementError) as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"cannot write: {os_reason(result.path, exc)}"
    for finding in result.findings:
        if finding.fixed:
            finding.fixed = False
            finding.unfixable_reason = "the file was not written"


def _cache_settings(rules: Sequence[Rule] | RuleSelection, config: Config, prefilter: bool) -> list:
    """Everything besides the file and the tool that shapes a file's result."""
    if isinstance(rules, RuleSelection):
        chosen = ["select", rules.select, rules.ignore]
    else:
        chosen = ["rules", [rule.code for rule in rules]]
    evidence = hashlib.blake2b(json.dumps(config.thread_evidence, sort_keys=True).encode(), digest_size=16).hexdigest()
    return [chosen, sorted(config.shared_classes), config.min_confidence, evidence, prefilter, config.unsafe_fixes]


# --- the process pool ---------------------------------------------------------------------
# A worker checks whole files: read, prefilter, parse, detect (and plan the fix). Files go
# out in chunks and come back in order (Pool.imap), so a run is as deterministic as with
# one process. A result comes back without the file's text unless a rewrite needs it.
_worker: dict = {}


def check_files_parallel(
    work: Sequence[tuple[Path, str, FirstLook | None]], rules: Sequence[Rule], options: dict, *, jobs: int = 1, store: Cache | None = None
) -> Iterator[FileResult]:
    """Results of (path, display, first look) jobs, in their order; ``store`` receives new entries."""
    if jobs <= 1 or len(work) < POOL_MIN_FILES:
        return (check_job(job, rules, options, store) for job in work)
    return _pooled(work, rules, options, jobs, store)


def _pooled(work, rules, options, jobs: int, store: Cache | None) -> Iterator[FileResult]:
    context = multiprocessing.get_context("fork" if can_fork() else None)
    # Small chunks: the few files that reach LibCST cost a hundred times the others, and
    # a chunk of several of them handed out last would keep one worker busy, the rest idle.
    chunksize = 2
    with context.Pool(min(jobs, len(work)), initializer=_start_worker, initargs=(rules, options, store)) as pool:
        yield from pool.imap(_pool_job, work, chunksize)


def _start_worker(rules: Sequence[Rule], options: dict, store: Cache | None) -> None:
    gc.freeze()  # what the parent built is never garbage: keep the collector off it
    _worker.update(rules=rules, options=options, store=store)


def _pool_job(job: tuple[Path, str, FirstLook | None]) -> FileResult:
    return check_job(job, _worker["rules"], _worker["options"], _worker["store"])


def check_job(job: tuple[Path, str, FirstLook | None], rules: Sequence[Rule], options: dict, store: Cache | None) -> FileResult:
    """One (path, display, the first pass's look at it) checked, its result stored in
    ``store``, then slimmed for the trip home."""
    from ftmigrate.engine import check_bytes

    path, display, look = job
    try:
        raw = read_bytes(path)
    except SourceError as exc:
        return FileResult(path=path, error=str(exc))
    if look is not None and look.digest != digest_of(raw):
        look = None  # the file changed since the first pass: its look is not of these bytes
    result = check_bytes(path, raw, rules, display=display, first_look=look, **options)
    # With fix, findings a rewrite touched differ from a scan's; results without any
    # fixable finding are exactly what a scan of these bytes gives.
    if store is not None and not result.internal and not (options["fix"] and any(f.fixable for f in result.findings)):
        store.store(store.key(path, raw), result)
    return result.slim()
