"""One file through the ast pipeline (``FTMIGRATE_AST=1``, issue 15): detect on the standard
``ast``, and parse with LibCST only to write a fix.

read -> each rule's text prefilter -> ``ast.parse`` (the compiler's own syntax errors) ->
each rule's ``candidate`` -> the ast ``FileContext`` -> the rules' ``check`` ->
suppressions -> confidence -> findings, at 1-based character columns. Only a file with a
fixable finding goes further: the planner decides on the ``ast`` which fixes it applies,
refuses or holds back as unsafe (a scan needs no LibCST for that); ``apply`` then parses
the file with LibCST, pairs its statements with the ``ast``'s (``ftmigrate.cstpair_ast``)
and writes the rewrite, verified as on the LibCST path (``engine.plan``).

A file this interpreter's compiler rejects but that is valid newer Python
(``ftmigrate.newsyntax``) cannot be analysed here: its error says which Python to run.
"""

from __future__ import annotations

import ast
from functools import partial
from typing import Callable, Sequence

from ftmigrate.analysis_ast import FileContext
from ftmigrate.confidence_ast import assess
from ftmigrate.cstpair_ast import pair
from ftmigrate.engine import _libcst_loss, candidate_rules, give_evidence, parse_cst, plan, report, syntax_tree
from ftmigrate.firstpass import FirstLook
from ftmigrate.fixes_ast import Guard, Replace, refusal
from ftmigrate.locking_ast import apply_fixes
from ftmigrate.newsyntax import needed_python, unanalysable_reason
from ftmigrate.results import FileResult
from ftmigrate.rules_ast import Rule, Site
from ftmigrate.sourcefile import SourceError


def check_ast(
    result: FileResult,
    active: list[Rule],
    *,
    fix: bool,
    display: str,
    shared_classes: Sequence[str],
    prefilter: bool,
    unsafe_fixes: bool,
    min_confidence: str,
    thread_evidence: dict | None,
    first_look: FirstLook | None,
) -> FileResult:
    """``engine.check_source`` on the ast pipeline, from where the two part: ``result`` is the
    file's (empty) result, ``active`` the rules its text prefilters let through (the options:
    ``check_source``'s)."""
    text = result.source.text
    if first_look is not None and prefilter:
        active = [rule for rule in active if rule.code in first_look.codes]
        if not active:
            return result
    try:
        tree = syntax_tree(text, display)
    except SourceError as exc:
        result.error = _newer_python_error(text, exc)
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
            plan(sites, findings, result, display, planner, write=fix, unsafe_fixes=unsafe_fixes, fix_types=(Guard, Replace))
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
    loss = _libcst_loss(text, module.code)
    if loss is not None:
        result.error = loss
        return None
    pairing = pair(ctx.tree, module)

    def planner(guards, replaces, known, *, write: bool, unsafe_fixes: bool):
        if write:
            return apply_fixes(ctx, module, pairing, guards, replaces, known, write=True, unsafe_fixes=unsafe_fixes)
        return apply_fixes(ctx, None, None, guards, replaces, known, write=False, unsafe_fixes=unsafe_fixes)

    return planner


def _newer_python_error(text: str, error: SourceError) -> str:
    """The error of a file the compiler rejected: that it needs a newer Python to analyse, when
    LibCST's tree of it shows so (``ftmigrate.newsyntax``); else the compiler's own."""
    try:
        needed = needed_python(parse_cst(text))
    except (SourceError, RecursionError):
        needed = None
    return unanalysable_reason(needed) if needed is not None else str(error)


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
    return line, column, last.end_lineno, ctx.source.column(last.end_lineno, last.end_col_offset)
