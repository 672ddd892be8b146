"""One file through the pipeline: read -> prefilter -> parse -> detect -> plan -> rewrite -> verify.

Prefiltering, from cheap to dear: each rule's text test (``Rule.prefilter``), then the
standard library's ``ast`` (which also gives the compiler's own syntax errors) and each
rule's ``Rule.candidate``; only files some rule still wants are parsed with LibCST.

Nothing here writes to disk; ``runner`` does, atomically, after ``verify`` has passed.
Every failure becomes a per-file error with a reason, never an exception for the caller.
"""

from __future__ import annotations

import ast
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import libcst as cst

from ftmigrate.analysis import FileContext
from ftmigrate.locking import Guard, Replace, apply_fixes, refusal
from ftmigrate.results import FileResult, Finding
from ftmigrate.rules import Rule, Site
from ftmigrate.sourcefile import SourceError, SourceFile, decode_source, read_bytes
from ftmigrate.suppression import is_suppressed, suppressions
from ftmigrate.verify import check_rewrite


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
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SourceError(f"cannot parse: {exc}") from None


def parse_cst(text: str) -> cst.Module:
    """LibCST's tree of text the compiler accepted."""
    try:
        with _unvalidated_nodes():
            return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise SourceError(f"LibCST cannot parse this file: {exc.message} (line {exc.raw_line}, column {exc.raw_column})") from None
    except RecursionError:
        raise SourceError("too deeply nested for LibCST") from None


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
    validating = cst.CSTNode.__post_init__
    cst.CSTNode.__post_init__ = _no_validation
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = validating


def check_source(
    source: SourceFile,
    rules: Sequence[Rule],
    *,
    fix: bool,
    display: str,
    shared_classes: Sequence[str] = (),
    prefilter: bool = True,
) -> FileResult:
    """Findings (and with ``fix``, the rewritten text) of one file.

    ``prefilter=False`` parses every file with LibCST and runs every rule on it: the
    plain path the prefilters are tested against.
    """
    result = FileResult(path=source.path, source=source)
    text = source.text
    active = [rule for rule in rules if rule.prefilter(text)] if prefilter else list(rules)
    if not active:
        return result
    try:
        tree = syntax_tree(text, display)
        if prefilter:
            active = [rule for rule in active if rule.candidate(tree)]
            if not active:
                return result
        del tree
        module = parse_cst(text)
    except SourceError as exc:
        result.error = str(exc)
        return result
    ctx = FileContext(module, source.path, shared_classes, copy=False)
    ignored = suppressions(text)
    found = [site for rule in active for site in rule.check(ctx)]
    ctx.locate([site.node for site in found])
    sites: list[Site] = []
    for site in found:
        pos = ctx.position(site.node)
        if not is_suppressed(ignored, site.rule, (pos.start.line, pos.end.line)):
            sites.append(site)
    findings = {}
    for site in sites:
        if site.fix is not None and site.unfixable_reason is None:
            site.unfixable_reason = refusal(site.fix)
        if site.unfixable_reason is not None:
            site.fix = None
        if site.guarded_by is None:
            pos = ctx.position(site.node)
            findings[id(site)] = Finding(
                rule=site.rule,
                path=display,
                line=pos.start.line,
                column=pos.start.column + 1,
                end_line=pos.end.line,
                end_column=pos.end.column + 1,
                message=site.message,
                fixable=site.fix is not None,
                unfixable_reason=site.unfixable_reason,
            )
    result.findings = sorted(findings.values(), key=lambda f: (f.line, f.column, f.rule))
    if any(f.fixable for f in result.findings):
        _plan(ctx, sites, findings, result, display, write=fix)
    return result


def _plan(ctx: FileContext, sites: list[Site], findings: dict, result: FileResult, display: str, write: bool) -> None:
    """Plan every fix of the file together. A scan learns which findings are really fixable
    (the planner may refuse one, e.g. to avoid a deadlock); an apply also gets the new text,
    verified before it is accepted."""
    open_sites = [s for s in sites if s.guarded_by is None and s.fix is not None]
    guards = [s.fix for s in open_sites if isinstance(s.fix, Guard)]
    replaces = [s.fix for s in open_sites if isinstance(s.fix, Replace)]
    known = [(s.fix, s.guarded_by) for s in sites if s.guarded_by is not None and isinstance(s.fix, Guard)]
    outcome = apply_fixes(ctx, guards, replaces, known, write=write)
    for site in open_sites:
        finding = findings[id(site)]
        if id(site.fix) not in outcome.applied:
            finding.fixable = False
            finding.unfixable_reason = outcome.refused.get(id(site.fix), "not fixed")
    if not write:
        return
    new_text = outcome.module.code
    problem = check_rewrite(result.source.text, new_text, outcome.inserted, display)
    if problem is not None:
        result.error = f"rewrite refused, file left unchanged: {problem}"
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
    """``check_source`` that turns a failure into a per-file error instead of raising."""
    path = source.path
    try:
        return check_source(source, rules, **options)
    except RecursionError:
        return FileResult(path=path, source=source, error="too deeply nested to analyse")
    except Exception as exc:  # a bug in a rule must not stop the run
        error = f"internal error: {type(exc).__name__}: {exc}"
        return FileResult(path=path, source=source, error=error, internal=True)
