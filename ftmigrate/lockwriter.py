"""Writes the lock planner's decisions (``ftmigrate.locking``) into LibCST's tree of the
file: the ``with`` blocks, the replaced statements, the new locks' definitions and
``import threading`` (``ftmigrate.imports``). The planner names ``ast`` statements; the
pairing of the two trees (``ftmigrate.cstpair``) gives the LibCST statement of each.
"""

from __future__ import annotations

import ast
import textwrap

import libcst as cst

from ftmigrate.analysis import FileContext
from ftmigrate.cstpair import StatementMap
from ftmigrate.fixes import Domain, Replace, Rewrite
from ftmigrate.imports import add_threading_import, is_docstring


class LockWriter:
    """The rewrite of one LibCST ``module``: lock definitions are added with ``define``,
    replacements built with ``substitution``, then ``write`` does it all in one pass."""

    def __init__(self, ctx: FileContext, module: cst.Module, pairing: StatementMap) -> None:
        self.ctx = ctx
        self.module = module
        self.pairing = pairing
        self.defs: dict[int, list[tuple[int, str]]] = {}  # id(LibCST body) -> [(line index, code)]
        self.owners: list[ast.AST] = []  # the ast owners of the bodies that get a lock
        self.new: dict[int, cst.BaseStatement] = {}  # id(ast statement) -> the statement replacing it
        self.written: set[int] = set()

    def _container(self, domain: Domain) -> cst.Module | cst.IndentedBlock:
        return self.module if domain.kind == "module" else self.pairing.cst(domain.owner).body

    def units(self, domain: Domain) -> list[tuple[ast.stmt, ...]]:
        """For every line of the body a new lock for ``domain`` goes in, its ``ast`` statements."""
        return [self.pairing.statements(line) for line in self._container(domain).body]

    def define(self, domain: Domain, index: int, code: str) -> None:
        """Define a lock (``code``) after line ``index`` of ``domain``'s body (-1: first)."""
        self.defs.setdefault(id(self._container(domain)), []).append((index, code))
        if domain.kind != "module":
            self.owners.append(domain.owner)

    def substitution(self, stmt: ast.stmt, rewrite: Rewrite) -> tuple[str, str]:
        """Build what replaces ``stmt``; (its code before, after), for the verifier."""
        old = self.pairing.cst(stmt)
        new = self.new[id(stmt)] = rewrite(old)
        code = self.module.code_for_node
        return textwrap.dedent(code(old)), textwrap.dedent(code(new))

    def write(self, spans: list[ast.stmt], wraps: dict, replaces: list[Replace], needs_import: bool) -> cst.Module:
        """The module with ``spans`` wrapped (``wraps``: id(ast statement) -> (lock
        expression, guard)), ``replaces`` and the defined locks written, and ``import
        threading`` added with ``needs_import``."""
        cst_of = self.pairing.cst
        cst_wraps = {id(cst_of(stmt)): wraps[id(stmt)] for stmt in spans}
        cst_replaces = {id(cst_of(r.stmt)): self.new[id(r.stmt)] for r in replaces}
        guard_new = {id(g): self.new[id(g.stmt)] for _, g in wraps.values() if g.replacement is not None and id(g.stmt) in self.new}
        touched = [*spans, *(r.stmt for r in replaces), *self.owners]
        on_the_way = {id(cst_of(n)) for t in touched for n in (t, *self.ctx.ancestors(t)) if isinstance(n, ast.stmt)}
        applier = _Applier(cst_wraps, cst_replaces, guard_new, self.defs, self.module, on_the_way, cst_of)
        module = self.module.visit(applier)
        self.written = applier.written
        return add_threading_import(module) if needs_import else module

    def wrote(self, stmt: ast.stmt) -> bool:
        """``stmt`` was put under its lock."""
        return id(self.pairing.cst(stmt)) in self.written


def _blank_lines(stmt: cst.CSTNode | None) -> tuple:
    """The blank lines ``stmt`` starts with (before any comment): a lock defined between two
    blocks is spaced like the code around it."""
    lines = []
    for line in getattr(stmt, "leading_lines", ()):
        if line.comment is not None:
            break
        lines.append(cst.EmptyLine(indent=False))  # no trailing whitespace in indented bodies
    return tuple(lines)


class _Applier(cst.CSTTransformer):
    """Writes the planned wraps, replacements and lock definitions in one pass.

    Only the statements ``on_the_way`` to a change (ids) are entered: a statement without
    one comes back as it is, so a large module costs no more than the paths to its changes.
    """

    def __init__(self, wraps, replaces, guard_new, defs, module: cst.Module, on_the_way: set[int], cst_of) -> None:
        super().__init__()
        self.wraps = wraps  # id(LibCST statement) -> (lock expression, guard)
        self.replaces = replaces  # id(LibCST statement) -> the statement replacing it
        self.guard_new = guard_new  # id(guard) -> the statement it puts under the lock instead
        self.defs = defs
        self.config = module.config_for_parsing
        self.on_the_way = on_the_way
        self.cst_of = cst_of
        self.written: set[int] = set()  # id() of the original LibCST statements actually wrapped

    def on_visit(self, node: cst.CSTNode) -> bool:
        return not isinstance(node, cst.BaseStatement) or id(node) in self.on_the_way

    def _lock_item(self, expr: str) -> list[cst.WithItem]:
        return [cst.WithItem(item=cst.parse_expression(expr, config=self.config))]

    def _with(self, expr: str, stmts: list[cst.BaseStatement]) -> cst.With:
        first = stmts[0]
        inner = [first.with_changes(leading_lines=()), *stmts[1:]]
        return cst.With(items=self._lock_item(expr), body=cst.IndentedBlock(body=inner), leading_lines=first.leading_lines)

    def _double_checked(self, expr: str, stmt: cst.If) -> cst.If:
        """``if T: body`` -> ``if T: with L: if T: body``. Comments above the ``if`` and at
        the end of its line stay on the outer (original) line; the body keeps its own."""
        header = cst.TrailingWhitespace()
        inner = stmt.with_changes(leading_lines=())
        if isinstance(stmt.body, cst.IndentedBlock):
            header = stmt.body.header
            inner = inner.with_changes(body=stmt.body.with_changes(header=cst.TrailingWhitespace()))
        with_ = cst.With(items=self._lock_item(expr), body=cst.IndentedBlock(body=[inner]))
        return cst.If(
            test=stmt.test.deep_clone(),
            body=cst.IndentedBlock(body=[with_], header=header),
            leading_lines=stmt.leading_lines,
            whitespace_before_test=stmt.whitespace_before_test,
            whitespace_after_test=stmt.whitespace_after_test,
        )

    def _parsed(self, code: str) -> cst.BaseStatement:
        return cst.parse_statement(code + self.config.default_newline, config=self.config)

    def _rebuild(self, container: cst.CSTNode, original: tuple, updated: tuple) -> list:
        defs: dict[int, list[str]] = {}
        for index, code in self.defs.get(id(container), []):
            defs.setdefault(index, []).append(code)

        out = [self._parsed(code) for code in defs.get(-1, [])]
        if out and original and isinstance(updated[0], (cst.FunctionDef, cst.ClassDef)) and not updated[0].leading_lines:
            # A lock defined above what was the first statement of a body, a def: keep them apart.
            updated = (updated[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)]), *updated[1:])
        i = 0
        while i < len(original):
            stmt = updated[i]
            if id(original[i]) in self.replaces:
                # The replacement's own leading lines (comments it carries over from the
                # statement it replaces) go after the replaced statement's.
                new = self.replaces[id(original[i])]
                stmt = new.with_changes(leading_lines=(*stmt.leading_lines, *new.leading_lines))
            wrap = self.wraps.get(id(original[i]))
            last = i
            if wrap is None:
                out.append(stmt)
            else:
                expr, guard = wrap
                self.written.add(id(original[i]))
                own = original[i] is self.cst_of(guard.stmt)
                if id(guard) in self.guard_new and own:
                    stmt = self.guard_new[id(guard)].with_changes(leading_lines=stmt.leading_lines)
                if guard.double_checked and own:
                    out.append(self._double_checked(expr, stmt))
                else:
                    group = [stmt]
                    while last + 1 < len(original):
                        nxt = self.wraps.get(id(original[last + 1]))
                        if nxt is None or nxt[0] != expr or nxt[1].double_checked or nxt[1].replacement is not None:
                            break
                        last += 1
                        group.append(updated[last])
                        self.written.add(id(original[last]))
                    out.append(self._with(expr, group))
            for k in range(i, last + 1):
                following = updated[k + 1] if k + 1 < len(updated) else None
                # After a block, or after a docstring, a lock is spaced like the code that follows.
                after_block = isinstance(original[k], cst.BaseCompoundStatement) or (k == 0 and is_docstring(original[k]))
                spacing = _blank_lines(following) if after_block else ()
                for code in defs.get(k, []):
                    out.append(self._parsed(code).with_changes(leading_lines=spacing))
            i = last + 1
        return out

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=self._rebuild(original_node, original_node.body, updated_node.body))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._rebuild(original_node, original_node.body, updated_node.body))

    def leave_SimpleStatementSuite(self, original_node, updated_node):
        wrap = self.wraps.get(id(original_node))
        if wrap is None:
            return updated_node
        self.written.add(id(original_node))
        line = cst.SimpleStatementLine(body=updated_node.body)
        return cst.IndentedBlock(body=[self._with(wrap[0], [line])], header=updated_node.trailing_whitespace)
