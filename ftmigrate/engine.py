"""One file through the pipeline: read -> prefilter -> parse -> detect -> plan -> rewrite -> verify.

Nothing here writes to disk; ``runner`` does, atomically, after ``verify`` has passed.
Every failure becomes a per-file error with a reason, never an exception for the caller.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
import threading
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import libcst as cst

from ftmigrate.analysis import FileContext
from ftmigrate.locking import Guard, Inserted, Replace, apply_fixes, refusal
from ftmigrate.rules import Rule, Site
from ftmigrate.sourcefile import SourceError, SourceFile, decode_source, read_source, split_lines
from ftmigrate.suppression import is_suppressed, suppressions
from ftmigrate.verify import check_rewrite

T = TypeVar("T")


@dataclass
class Finding:
    rule: str
    path: str
    line: int
    column: int  # 1-based, like ruff
    end_line: int
    end_column: int
    message: str
    fixable: bool
    fixed: bool = False
    unfixable_reason: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("unfixable_reason")
        return data


@dataclass
class FileResult:
    path: Path
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    source: SourceFile | None = None
    new_text: str | None = None
    internal: bool = False  # the error is a bug of ours, not bad input (exit code 2)
    # What the rewrite added (for checking it again later, as scripts/selfcheck.py does),
    # and the rewritten text when the verifier refused it (new_text stays None then).
    inserted: Inserted | None = None
    refused_text: str | None = None

    @property
    def changed(self) -> bool:
        return self.source is not None and self.new_text is not None and self.new_text != self.source.text

    @property
    def fixed(self) -> int:
        return sum(f.fixed for f in self.findings)


# LibCST needs minutes and about 1 GB of memory per MB of source; a file this big is
# generated code, reported as not analysed rather than stalling the whole run.
MAX_PARSE_BYTES = 2 * 1024 * 1024


def parse(text: str, filename: str) -> cst.Module:
    """Parse for rewriting; raises SourceError with the compiler's own message on bad syntax."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise SourceError(f"syntax error: {exc.msg} (line {exc.lineno}, column {exc.offset})") from None
    except (ValueError, MemoryError) as exc:
        raise SourceError(f"cannot parse: {exc}") from None
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise SourceError(f"LibCST cannot parse this file: {exc.message} (line {exc.raw_line}, column {exc.raw_column})") from None
    if text.endswith("\r") and not module.has_trailing_newline:
        # LibCST looks for a final "\n" only: with old Mac line endings it would drop the last "\r".
        module = module.with_changes(has_trailing_newline=True)
    return module


# A fix can give a rule new evidence (an inserted class lock tells FT003 the class is
# shared), so ``apply`` reruns the rules on its own output until nothing changes, as ruff
# does; this bounds the rounds.
MAX_FIX_ROUNDS = 4


def check_source(
    source: SourceFile, rules: Sequence[Rule], *, fix: bool, display: str, shared_classes: Sequence[str] = ()
) -> FileResult:
    """Findings of one file; with ``fix``, also its rewrite, applied until it is stable."""
    result = _check_once(source, rules, fix=fix, display=display, shared_classes=shared_classes)
    for _ in range(MAX_FIX_ROUNDS - 1):
        if result.new_text is None or result.error is not None:
            break
        current = dataclasses.replace(source, text=result.new_text, raw=source.encode(result.new_text))
        again = _check_once(current, rules, fix=True, display=display, shared_classes=shared_classes)
        if again.new_text is None or again.error is not None:
            break  # stable (a refusal here shows up, with its reason, on the next run)
        inserted = Inserted(
            lock_names=result.inserted.lock_names | again.inserted.lock_names,
            lock_exprs=result.inserted.lock_exprs | again.inserted.lock_exprs,
            substitutions=result.inserted.substitutions + again.inserted.substitutions,
        )
        if check_rewrite(source.text, again.new_text, inserted, display) is not None:
            break
        result.new_text, result.inserted = again.new_text, inserted
        result.findings += [f for f in again.findings if f.fixed]
    return result


def _check_once(
    source: SourceFile, rules: Sequence[Rule], *, fix: bool, display: str, shared_classes: Sequence[str] = ()
) -> FileResult:
    result = FileResult(path=source.path, source=source)
    text = source.text
    active = [rule for rule in rules if not rule.tokens or any(token in text for token in rule.tokens)]
    if not active:
        return result
    if len(source.raw) > MAX_PARSE_BYTES:
        size, limit = len(source.raw) / 2**20, MAX_PARSE_BYTES / 2**20
        result.error = f"too large to analyse: {size:.1f} MiB (the limit is {limit:.0f} MiB)"
        return result
    try:
        module = parse(text, display)
    except SourceError as exc:
        result.error = str(exc)
        return result
    ctx = FileContext(module, source.path, shared_classes)
    ignored = suppressions(text)
    sites: list[Site] = []
    for rule in active:
        for site in rule.check(ctx):
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


def _plan(ctx: FileContext, sites: list[Site], findings: dict, result: FileResult, display: str, write: bool) -> None:
    """Plan every fix of the file together. A scan learns which findings are really fixable
    (the planner may refuse one, e.g. to avoid a deadlock); an apply also gets the new text,
    verified before it is accepted."""
    loss = _libcst_loss(result.source.text, ctx.module.code) if write else None
    if loss is not None:
        result.error = loss
        return
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
    result.inserted = outcome.inserted
    problem = check_rewrite(result.source.text, new_text, outcome.inserted, display)
    if problem is not None:
        result.error = f"rewrite refused, file left unchanged: {problem}"
        result.refused_text = new_text
        return
    for site in open_sites:
        findings[id(site)].fixed = id(site.fix) in outcome.applied
    result.new_text = new_text


def check_file(
    path: Path, rules: Sequence[Rule], *, fix: bool, display: str | None = None, shared_classes: Sequence[str] = ()
) -> FileResult:
    """Never raises for bad input: unreadable, undecodable or unparsable files give ``error``."""
    try:
        source = read_source(path)
    except SourceError as exc:
        return FileResult(path=path, error=str(exc))
    return check_loaded(source, rules, fix=fix, display=display or path.as_posix(), shared_classes=shared_classes)


def check_bytes(
    path: Path, raw: bytes, rules: Sequence[Rule], *, fix: bool, display: str, shared_classes: Sequence[str] = ()
) -> FileResult:
    """``check_file`` for source that is not read from ``path`` (standard input)."""
    try:
        source = decode_source(path, raw)
    except SourceError as exc:
        return FileResult(path=path, error=str(exc))
    return check_loaded(source, rules, fix=fix, display=display, shared_classes=shared_classes)


def check_loaded(
    source: SourceFile, rules: Sequence[Rule], *, fix: bool, display: str, shared_classes: Sequence[str] = ()
) -> FileResult:
    """``check_source`` that turns a failure into a per-file error instead of raising; a
    file too deeply nested for the default stack is tried again on a deep one."""
    path = source.path

    def work() -> FileResult:
        return check_source(source, rules, fix=fix, display=display, shared_classes=shared_classes)

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
