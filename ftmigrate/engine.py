"""One file through the pipeline: read -> prefilter -> parse -> detect -> plan -> rewrite -> verify.

Prefiltering, from cheap to dear: each rule's text test (``Rule.prefilter``), then the
standard library's ``ast`` (which also gives the compiler's own syntax errors) and each
rule's ``Rule.candidate``; only files some rule still wants are parsed with LibCST.

With ``FTMIGRATE_AST=1`` (the port of the rules to the standard ``ast``, issue 15), a file
that passes the text prefilters goes on through ``ftmigrate.engine_ast`` instead: detection
on ``ast``, LibCST only to write a fix. Both pipelines share ``report`` (suppressions,
confidence, findings) and ``plan`` (fix outcomes, verification).

Nothing here writes to disk; ``runner`` does, atomically, after ``verify`` has passed.
Every failure becomes a per-file error with a reason, never an exception for the caller.
"""

from __future__ import annotations

import ast
import os
import sys
import threading
import warnings
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import libcst as cst

from ftmigrate.analysis import FileContext
from ftmigrate.firstpass import FirstLook
from ftmigrate.confidence import Confidence, assess, at_least
from ftmigrate.locking import Guard, Replace, apply_fixes, refusal
from ftmigrate.newsyntax import needed_python, unverifiable_reason
from ftmigrate.results import FileResult, Finding
from ftmigrate.rules import Rule, Site
from ftmigrate.rules_ast import ast_port_enabled
from ftmigrate.sourcefile import SourceError, SourceFile, decode_source, read_bytes, split_lines
from ftmigrate.suppression import is_suppressed, suppressions
from ftmigrate.treewalk import statement_starts
from ftmigrate.verify import check_rewrite

T = TypeVar("T")


# LibCST needs minutes and about 1 GB of memory per MB of source; a file this big is
# generated code, reported as not analysed rather than stalling the whole run.
MAX_PARSE_BYTES = 2 * 1024 * 1024


def parse(text: str, filename: str) -> cst.Module:
    """Parse for rewriting; raises SourceError with the compiler's own message on bad syntax."""
    syntax_tree(text, filename)
    return parse_cst(text)


def syntax_tree(text: str, filename: str) -> ast.Module:
    """The standard library's ``ast``; raises SourceError with the compiler's message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            return ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise SourceError(f"syntax error: {exc.msg} (line {exc.lineno}, column {exc.offset})") from None
    except (ValueError, MemoryError) as exc:
        raise SourceError(f"cannot parse: {exc}") from None


def _newer_python_module(text: str, error: SourceError) -> tuple[cst.Module, tuple[tuple[int, int], str]]:
    """LibCST's tree of a file this interpreter's compiler rejected, when the tree shows why:
    it is written for a newer Python (``ftmigrate.newsyntax``). Otherwise ``error`` stands."""
    try:
        module = parse_cst(text)
    except SourceError:
        raise error from None
    needed = needed_python(module)
    if needed is None:
        raise error
    return module, needed


def line_count(text: str) -> int:
    """How many lines LibCST counts in ``text`` (it ends a last line without a newline)."""
    newlines = text.count("\n") + text.count("\r") - text.count("\r\n")
    return newlines + (1 if text and not text.endswith(("\n", "\r")) else 0)


def parse_cst(text: str) -> cst.Module:
    """LibCST's tree of text the compiler accepted."""
    try:
        with _unvalidated_nodes():
            module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise SourceError(f"LibCST cannot parse this file: {exc.message} (line {exc.raw_line}, column {exc.raw_column})") from None
    if text.endswith("\r") and not module.has_trailing_newline:
        # LibCST looks for a final "\n" only: with old Mac line endings it would drop the last "\r".
        module = module.with_changes(has_trailing_newline=True)
    return module


_VALIDATING = cst.CSTNode.__post_init__


def _no_validation(node: cst.CSTNode) -> None:
    pass


@contextmanager
def _unvalidated_nodes() -> Iterator[None]:
    """Nodes built meanwhile skip ``CSTNode.__post_init__``'s validation.

    LibCST validates every node its own parser builds, a third of a parse's time; its
    source says as much ("PERF: ... avoid validating the tree when parsing a file"). A tree
    parsed from code the compiler accepted is valid; nodes built by rules and the lock
    planner, later, are still validated.
    """
    cst.CSTNode.__post_init__ = _no_validation
    try:
        yield
    finally:
        # LibCST's own, not whatever was there: two threads parsing at once must not leave
        # validation switched off.
        cst.CSTNode.__post_init__ = _VALIDATING


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

    ``prefilter=False`` parses every file with LibCST and runs every rule on it: the
    plain path the prefilters are tested against. ``unsafe_fixes``: also plan (and write)
    the fixes ``ftmigrate.fixsafety`` calls unsafe. One round: the planner adds locks at
    class or module level only, never evidence that instances are shared
    (``ftmigrate.threadlocks``), so the rewrite holds no finding the original did not
    show, and ``apply`` changes exactly what ``scan`` shows. ``first_look``: what the run's
    first pass learned from its ``ast`` of these very bytes (``ftmigrate.firstpass``); the
    file is then not parsed with ``ast`` again.

    With ``FTMIGRATE_AST=1`` the file goes through the ast pipeline instead
    (``ftmigrate.engine_ast``).
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
    if ast_port_enabled():
        from ftmigrate.engine_ast import check_ast

        return check_ast(
            result, active, fix=fix, display=display, shared_classes=shared_classes, prefilter=prefilter,
            unsafe_fixes=unsafe_fixes, min_confidence=min_confidence, thread_evidence=thread_evidence,
            first_look=first_look,
        )
    newer: tuple[tuple[int, int], str] | None = None  # the file needs a newer Python than this one
    try:
        if first_look is not None and prefilter:
            active = [rule for rule in active if rule.code in first_look.codes]
            if not active:
                return result
            outline = first_look.outline
            module = parse_cst(text)
        else:
            try:
                tree = syntax_tree(text, display)
            except SourceError as exc:
                module, newer = _newer_python_module(text, exc)
                outline = None
            else:
                if prefilter:
                    active = candidate_rules(tree, active, shared_classes)
                    if not active:
                        return result
                outline = (statement_starts(tree), line_count(text))
                del tree
                module = parse_cst(text)
    except SourceError as exc:
        result.error = str(exc)
        return result
    ctx = FileContext(module, source.path, shared_classes, copy=False)
    give_evidence(ctx, thread_evidence)
    found = [site for rule in active for site in rule.check(ctx)]
    ctx.locate([site.node for site in found], outline)

    def span(site: Site) -> tuple[int, int, int, int]:
        pos = ctx.position(site.node)
        return pos.start.line, pos.start.column, pos.end.line, pos.end.column

    extra = unverifiable_reason(newer) if newer is not None else None
    sites, findings = report(found, text, display, span, lambda site: assess(ctx, site), refusal, min_confidence, extra)
    result.findings = sorted(findings.values(), key=lambda f: (f.line, f.column, f.rule))
    if any(f.fixable for f in result.findings):
        loss = _libcst_loss(text, ctx.module.code) if fix else None
        if loss is not None:
            result.error = loss
        else:
            plan(sites, findings, result, display, partial(apply_fixes, ctx), write=fix, unsafe_fixes=unsafe_fixes)
    return result


def give_evidence(ctx, thread_evidence: dict | None) -> None:
    """Hand the project's evidence about the file of ``ctx`` (a ``FileContext``, of either
    pipeline) to it: ``ProjectIndex.evidence()``'s threads, import-time and lock-maker facts."""
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


def _libcst_loss(text: str, code: str) -> str | None:
    """Why LibCST's ``code`` for ``text`` is not ``text`` byte for byte, or None if it is.

    LibCST drops a form feed inside a line's indentation (and would drop a final lone
    ``\\r`` if ``parse`` did not put it back); the AST check of a rewrite cannot notice
    such a loss, so every byte is checked.
    """
    if code == text:
        return None
    old, new = split_lines(text), split_lines(code)
    number = next((n for n, (a, b) in enumerate(zip(old, new), start=1) if a != b), min(len(old), len(new)) + 1)
    line = (old + [""])[number - 1]
    cause = ""
    if "\f" in line:
        cause = " (a form feed in the indentation)"
    elif "\r" in line.replace("\r\n", ""):
        cause = " (a lone \\r line ending)"
    return f"not rewritten: LibCST does not reproduce line {number} byte for byte{cause}"


def plan(
    sites: list[Site],
    findings: dict,
    result: FileResult,
    display: str,
    planner: Callable,
    write: bool,
    unsafe_fixes: bool,
    fix_types: tuple[type, type] = (Guard, Replace),
) -> None:
    """Plan every fix of the file together. A scan learns which findings are really fixable
    (the planner may refuse one, e.g. to avoid a deadlock); an apply also gets the new text,
    verified before it is accepted. ``planner(guards, replaces, known, write=, unsafe_fixes=)``
    plans (and writes): ``apply_fixes`` of the file's context; ``fix_types``: its (Guard,
    Replace) classes."""
    guard_type, replace_type = fix_types
    open_sites = [s for s in sites if s.guarded_by is None and s.fix is not None]
    guards = [s.fix for s in open_sites if isinstance(s.fix, guard_type)]
    replaces = [s.fix for s in open_sites if isinstance(s.fix, replace_type)]
    known = [(s.fix, s.guarded_by) for s in sites if s.guarded_by is not None and isinstance(s.fix, guard_type)]
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
