"""One file through the pipeline: read -> prefilter -> detect -> plan -> rewrite -> verify.

Detection runs on the standard library's ``ast``: each rule's text test (``Rule.prefilter``),
then ``ast.parse`` (the compiler's own syntax errors) and each rule's ``Rule.candidate``
(cheap necessary conditions), then the ast ``FileContext`` and the rules' ``check``,
suppressions and confidence, giving findings at 1-based character columns. Only a file
with a fixable finding goes further: the planner decides on the ``ast`` which fixes it
applies, refuses or holds back as unsafe (a scan needs no LibCST for that); ``apply`` then
parses the file with LibCST, pairs its statements with the ``ast``'s (``ftmigrate.cstpair``)
and writes the rewrite, verified before it is accepted.

A file this interpreter's compiler rejects but that is valid newer Python
(``ftmigrate.newsyntax``) cannot be analysed here: its error says which Python to run.

Nothing here writes to disk; ``runner`` does, atomically, after ``verify`` has passed.
Every failure becomes a per-file error with a reason, never an exception for the caller.
"""

from __future__ import annotations

import ast
import os
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from ftmigrate.analysis import FileContext
from ftmigrate.confidence import Confidence, assess, at_least
from ftmigrate.cstpair import pair
from ftmigrate.firstpass import FirstLook
from ftmigrate.fixes import Guard, Replace, refusal
from ftmigrate.locking import apply_fixes
from ftmigrate.parsing import MAX_PARSE_BYTES, libcst_loss, newer_python_error, parse_cst, syntax_tree
from ftmigrate.results import FileResult, Finding
from ftmigrate.rules import Rule, Site
from ftmigrate.sourcefile import SourceError, SourceFile, decode_source, read_bytes
from ftmigrate.suppression import is_suppressed, suppressions
from ftmigrate.verify import check_rewrite

T = TypeVar("T")


def wanted_rules(text: str, rules: Sequence[Rule]) -> list[Rule]:
    """The rules whose text prefilter lets ``text`` through."""
    return [rule for rule in rules if rule.prefilter(text)]


def candidate_rules(tree: ast.Module, rules: Sequence[Rule], shared_classes: Sequence[str] = ()) -> list[Rule]:
    """The rules of ``rules`` whose necessary condition on the ``ast`` holds."""
    return [rule for rule in rules if rule.candidate(tree, frozenset(shared_classes))]


def check_source(
    source: SourceFile,
    rules: Sequence[Rule],
    *,
    fix: bool,
    display: str,
    shared_classes: Sequence[str] = (),
    prefilter: bool = True,
    unsafe_fixes: bool = False,
    min_confidence: str = "low",
    thread_evidence: dict | None = None,
    first_look: FirstLook | None = None,
) -> FileResult:
    """Findings of one file; with ``fix``, also its rewrite.

    ``prefilter=False`` runs every rule's ``check`` on every file: the plain path the
    prefilters are tested against. ``unsafe_fixes``: also plan (and write)
    the fixes ``ftmigrate.fixsafety`` calls unsafe. One round: the planner adds locks at
    class or module level only, never evidence that instances are shared
    (``ftmigrate.threadlocks``), so the rewrite holds no finding the original did not
    show, and ``apply`` changes exactly what ``scan`` shows. ``first_look``: what the run's
    first pass learned from its ``ast`` of these very bytes (``ftmigrate.firstpass``); the
    file is then not parsed with ``ast`` again.
    """
    result = FileResult(path=source.path, source=source)
    text = source.text
    active = wanted_rules(text, rules) if prefilter else list(rules)
    if not active:
        return result
    if len(source.raw) > MAX_PARSE_BYTES:
        size, limit = len(source.raw) / 2**20, MAX_PARSE_BYTES / 2**20
        result.error = f"too large to analyse: {size:.1f} MiB (the limit is {limit:.0f} MiB)"
        return result
    if first_look is not None and prefilter:
        active = [rule for rule in active if rule.code in first_look.codes]
        if not active:
            return result
    try:
        tree = syntax_tree(text, display)
    except SourceError as exc:
        result.error = newer_python_error(text, exc)
        return result
    if prefilter and first_look is None:
        active = candidate_rules(tree, active, shared_classes)
        if not active:
            return result
    ctx = FileContext(tree, text, result.path, shared_classes)
    give_evidence(ctx, thread_evidence)
    found = [site for rule in active for site in rule.check(ctx)]
    sites, findings = report(found, text, display, partial(site_span, ctx), partial(assess, ctx), refusal, min_confidence)
    result.findings = sorted(findings.values(), key=lambda f: (f.line, f.column, f.rule))
    if any(f.fixable for f in result.findings):
        planner = _planner(ctx, result) if fix else partial(apply_fixes, ctx, None, None)
        if planner is not None:
            plan(sites, findings, result, display, planner, write=fix, unsafe_fixes=unsafe_fixes)
    return result


def _planner(ctx, result: FileResult) -> Callable | None:
    """``apply_fixes`` writing on LibCST's tree of the file, its statements paired with the
    ``ast``'s; None (and ``result.error``) when LibCST cannot parse or reproduce the file."""
    text = result.source.text
    try:
        module = parse_cst(text)
    except SourceError as exc:
        result.error = str(exc)
        return None
    loss = libcst_loss(text, module.code)
    if loss is not None:
        result.error = loss
        return None
    pairing = pair(ctx.tree, module)

    def planner(guards, replaces, known, *, write: bool, unsafe_fixes: bool):
        if write:
            return apply_fixes(ctx, module, pairing, guards, replaces, known, write=True, unsafe_fixes=unsafe_fixes)
        return apply_fixes(ctx, None, None, guards, replaces, known, write=False, unsafe_fixes=unsafe_fixes)

    return planner


def site_span(ctx, site: Site) -> tuple[int, int, int, int]:
    """(line, column, end line, end column) of a finding at ``site``, columns 0-based
    characters (``ast``'s are UTF-8 bytes), as LibCST placed it: from ``site.node``'s start
    (a decorator's at its ``@``, where LibCST's ``Decorator`` starts; ``ast`` starts it at the
    expression) to the end of ``site.end_node`` (default: ``node``)."""
    node, last = site.node, site.end_node or site.node
    line, column = node.lineno, ctx.source.column(node.lineno, node.col_offset)
    parent = ctx.parent(node)
    if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and any(d is node for d in parent.decorator_list):
        before = ctx.lines[line - 1][:column].rstrip()
        if before.endswith("@"):
            column = len(before) - 1
    end_column = ctx.source.column(last.end_lineno, last.end_col_offset)
    ended = ctx.lines[last.end_lineno - 1][:end_column]
    if ended.endswith(";"):  # Python 3.13's ast ends a block's last `x;` after its `;`; LibCST before
        end_column = len(ended[:-1].rstrip())
    return line, column, last.end_lineno, end_column


def give_evidence(ctx, thread_evidence: dict | None) -> None:
    """Hand the project's evidence about the file of ``ctx`` (a ``FileContext``) to it:
    ``ProjectIndex.evidence()``'s threads, import-time and lock-maker facts."""
    evidence = (thread_evidence or {}).get(os.path.abspath(ctx.path), {})
    ctx.project_threads = evidence.get("threads", {})
    ctx.project_import_time = evidence.get("import_time", {})
    ctx.project_lock_makers = evidence.get("lock_makers", {})


def report(
    found: Sequence[Site],
    text: str,
    display: str,
    span: Callable[[Site], tuple[int, int, int, int]],
    assess: Callable[[Site], Confidence],
    refusal: Callable[[object], str | None],
    min_confidence: str,
    unfixable: str | None = None,
) -> tuple[list[Site], dict[int, Finding]]:
    """The sites of ``found`` that are reported or guarded (not suppressed by a comment, not
    below ``min_confidence``), and the findings of the open ones by ``id(site)``. ``span``:
    (line, column, end line, end column) of a site, columns 0-based characters; ``assess``:
    its confidence; ``refusal``: why a fix can never be applied; ``unfixable``: why no fix
    of this file can be (a file for a newer Python)."""
    ignored = suppressions(text)
    sites: list[Site] = []
    confidence: dict[int, Confidence] = {}
    spans: dict[int, tuple[int, int, int, int]] = {}
    for site in found:
        spans[id(site)] = line, _, end_line, _ = span(site)
        if is_suppressed(ignored, site.rule, (line, end_line)):
            continue
        if site.guarded_by is None:
            confidence[id(site)] = assess(site)
            if not at_least(confidence[id(site)].level, min_confidence):
                continue  # not reported, so not fixed either
        sites.append(site)
    findings = {}
    for site in sites:
        if site.fix is not None and unfixable is not None:
            site.unfixable_reason = unfixable
        if site.fix is not None and site.unfixable_reason is None:
            site.unfixable_reason = refusal(site.fix)
        if site.unfixable_reason is not None:
            site.fix = None
        if site.guarded_by is None:
            line, column, end_line, end_column = spans[id(site)]
            findings[id(site)] = Finding(
                rule=site.rule,
                path=display,
                line=line,
                column=column + 1,
                end_line=end_line,
                end_column=end_column + 1,
                message=site.message,
                fixable=site.fix is not None,
                unfixable_reason=site.unfixable_reason,
                confidence=confidence[id(site)].level,
                confidence_reason=confidence[id(site)].reason,
            )
    return sites, findings


def plan(
    sites: list[Site],
    findings: dict,
    result: FileResult,
    display: str,
    planner: Callable,
    write: bool,
    unsafe_fixes: bool,
) -> None:
    """Plan every fix of the file together. A scan learns which findings are really fixable
    (the planner may refuse one, e.g. to avoid a deadlock); an apply also gets the new text,
    verified before it is accepted. ``planner(guards, replaces, known, write=, unsafe_fixes=)``
    plans (and writes): ``apply_fixes`` of the file's context."""
    open_sites = [s for s in sites if s.guarded_by is None and s.fix is not None]
    guards = [s.fix for s in open_sites if isinstance(s.fix, Guard)]
    replaces = [s.fix for s in open_sites if isinstance(s.fix, Replace)]
    known = [(s.fix, s.guarded_by) for s in sites if s.guarded_by is not None and isinstance(s.fix, Guard)]
    outcome = planner(guards, replaces, known, write=write, unsafe_fixes=unsafe_fixes)
    if any(id(fix) not in outcome.applied and id(fix) not in outcome.refused for fix in guards):
        # Held back as unsafe: would `--unsafe-fixes` apply it, or refuse it (a deadlock)?
        probe = planner(guards, replaces, known, write=False, unsafe_fixes=True)
        for fix in guards:
            if id(fix) not in outcome.applied and id(fix) in probe.refused:
                outcome.refused.setdefault(id(fix), probe.refused[id(fix)])
    for site in open_sites:
        finding = findings[id(site)]
        unsafe = outcome.unsafe.get(id(site.fix))
        held_back = unsafe is not None and id(site.fix) not in outcome.refused
        if id(site.fix) in outcome.applied or held_back:
            finding.fix_safety = "unsafe" if unsafe is not None else "safe"
            finding.unsafe_reason = unsafe
        if id(site.fix) not in outcome.applied and held_back:
            finding.unfixable_reason = f"unsafe fix, enabled with `--unsafe-fixes`: {unsafe}"
        elif id(site.fix) not in outcome.applied:
            finding.fixable = False
            finding.unfixable_reason = outcome.refused.get(id(site.fix), "not fixed")
    if not write:
        return
    new_text = outcome.module.code
    result.inserted = outcome.inserted
    problem = check_rewrite(result.source.text, new_text, outcome.inserted, display)
    if problem is not None:
        result.error = f"rewrite refused, file left unchanged: {problem}"
        result.refused_text = new_text
        return
    for site in open_sites:
        findings[id(site)].fixed = id(site.fix) in outcome.applied
    result.new_text = new_text


def check_file(path: Path, rules: Sequence[Rule], *, display: str | None = None, **options) -> FileResult:
    """Never raises for bad input: unreadable, undecodable or unparsable files give ``error``.
    ``options``: those of ``check_source`` (``fix`` is required)."""
    try:
        raw = read_bytes(path)
    except SourceError as exc:
        return FileResult(path=path, error=str(exc))
    return check_bytes(path, raw, rules, display=display or path.as_posix(), **options)


def check_bytes(path: Path, raw: bytes, rules: Sequence[Rule], **options) -> FileResult:
    """``check_file`` of bytes already read: the file's own (its result depends on them
    alone, which the cache relies on), or source for it from standard input."""
    try:
        source = decode_source(path, raw)
    except SourceError as exc:
        return FileResult(path=path, error=str(exc))
    return check_loaded(source, rules, **options)


def check_loaded(source: SourceFile, rules: Sequence[Rule], **options) -> FileResult:
    """``check_source`` that turns a failure into a per-file error instead of raising; a
    file too deeply nested for the default stack is tried again on a deep one."""
    path = source.path

    def work() -> FileResult:
        return check_source(source, rules, **options)

    try:
        try:
            return work()
        except RecursionError:
            return with_deep_stack(work)
    except RecursionError:
        return FileResult(path=path, source=source, error="too deeply nested to analyse")
    except Exception as exc:  # a bug in a rule must not stop the run
        error = f"internal error: {type(exc).__name__}: {exc}"
        return FileResult(path=path, source=source, error=error, internal=True)


DEEP_STACK_BYTES = 512 * 1024 * 1024
DEEP_RECURSION_LIMIT = 200_000


def with_deep_stack(work: Callable[[], T]) -> T:
    """Run ``work`` again in a thread with a big stack and a high recursion limit.

    LibCST and ``ast`` recurse once per level of nesting, and real code nests deeply
    where it does not look nested: pydoc_data/topics.py is a dict of strings, each made
    of hundreds of implicitly concatenated literals. The stack is reserved, not used,
    until needed; exceptions (a RecursionError even here) reach the caller.
    """
    outcome: list = []

    def target() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed to the calling thread
            outcome.append((False, exc))

    old_limit, old_size = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, DEEP_RECURSION_LIMIT))
    try:
        threading.stack_size(DEEP_STACK_BYTES)
        thread = threading.Thread(target=target, name="ftmigrate-deep-stack", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old_size)
    try:
        thread.join()
    finally:
        sys.setrecursionlimit(old_limit)
    ok, value = outcome[0]
    if ok:
        return value
    raise value
