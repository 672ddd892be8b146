"""Which LibCST node is which ``ast`` statement: the bridge from detection (on ``ast``) to
rewriting (on LibCST).

Rules and the lock planner decide on the standard ``ast``; the writer changes LibCST's tree
of the same text. ``pair`` walks both trees' statement lists in parallel, statement by
statement (no positions needed): every ``ast`` statement, function, class, ``except``
handler and ``match`` case gets its LibCST node, and back.

LibCST groups what ``ast`` keeps apart: a line ``a; b`` is one ``SimpleStatementLine``
holding two small statements, and a one-line suite (``if x: a; b``) is a
``SimpleStatementSuite`` holding them. ``cst(stmt)`` of such a statement is the line (or
suite) holding it, the unit the writer replaces; ``cst_small(stmt)`` is the small statement
itself. ``elif`` is an ``If`` in LibCST's ``orelse`` and a lone ``If`` in ``ast``'s.
Anything the two trees disagree on raises ``PairingError`` (they come from the same text,
so that is a bug, never a property of the file).
"""

from __future__ import annotations

import ast
from typing import Union

import libcst as cst

Suite = Union[cst.Module, cst.BaseSuite]

# ast statement type -> the LibCST small statement it is.
_SMALL: dict[type, type] = {
    ast.Expr: cst.Expr,
    ast.Assign: cst.Assign,
    ast.AugAssign: cst.AugAssign,
    ast.AnnAssign: cst.AnnAssign,
    ast.Return: cst.Return,
    ast.Raise: cst.Raise,
    ast.Delete: cst.Del,
    ast.Import: cst.Import,
    ast.ImportFrom: cst.ImportFrom,
    ast.Global: cst.Global,
    ast.Nonlocal: cst.Nonlocal,
    ast.Assert: cst.Assert,
    ast.Break: cst.Break,
    ast.Continue: cst.Continue,
    ast.Pass: cst.Pass,
}
if hasattr(ast, "TypeAlias") and hasattr(cst, "TypeAlias"):  # `type X = ...` (Python 3.12)
    _SMALL[ast.TypeAlias] = cst.TypeAlias

# ast compound statement type -> (the LibCST statement, whether it is ``async``).
_COMPOUND: dict[type, tuple[type, bool]] = {
    ast.If: (cst.If, False),
    ast.For: (cst.For, False),
    ast.AsyncFor: (cst.For, True),
    ast.While: (cst.While, False),
    ast.With: (cst.With, False),
    ast.AsyncWith: (cst.With, True),
    ast.FunctionDef: (cst.FunctionDef, False),
    ast.AsyncFunctionDef: (cst.FunctionDef, True),
    ast.ClassDef: (cst.ClassDef, False),
    ast.Try: (cst.Try, False),
    ast.Match: (cst.Match, False),
}
if hasattr(ast, "TryStar"):  # `except*` (Python 3.11)
    _COMPOUND[ast.TryStar] = (cst.TryStar, False)


class PairingError(ValueError):
    """The ``ast`` and LibCST trees do not have the same statements."""


class StatementMap:
    """The pairing of one file's ``ast`` and LibCST trees (see the module documentation)."""

    def __init__(self) -> None:
        self._cst: dict[int, cst.CSTNode] = {}  # id(ast node) -> LibCST line/suite/compound/handler/case
        self._small: dict[int, cst.BaseSmallStatement] = {}  # id(ast simple statement) -> its small statement
        self._ast: dict[int, ast.AST] = {}  # id(LibCST node) -> ast node (a line/suite: its first statement)
        self._held: dict[int, list[ast.stmt]] = {}  # id(LibCST line/suite) -> the ast statements it holds
        self._nodes: list[object] = []  # keeps every paired node alive, so no id is reused

    def cst(self, node: ast.AST) -> cst.CSTNode:
        """The LibCST node of ``node``: for a simple statement the ``SimpleStatementLine`` or
        ``SimpleStatementSuite`` holding it; for a compound statement (function and class
        included), an ``except`` handler or a ``match`` case, its own; for the module, the
        module. KeyError for anything else."""
        return self._cst[id(node)]

    def cst_small(self, stmt: ast.stmt) -> cst.BaseSmallStatement:
        """The LibCST small statement a simple ``ast`` statement is (``b`` of ``a; b``)."""
        return self._small[id(stmt)]

    def ast(self, node: cst.CSTNode) -> ast.AST:
        """The ``ast`` node of a LibCST small or compound statement, handler, case or module;
        of a line or one-line suite, its first statement (all of them: ``statements``)."""
        return self._ast[id(node)]

    def statements(self, node: cst.CSTNode) -> tuple[ast.stmt, ...]:
        """The ``ast`` statements a LibCST line or one-line suite holds, in order; of any
        other paired statement, that statement alone."""
        held = self._held.get(id(node))
        return tuple(held) if held is not None else (self._ast[id(node)],)

    def _link(self, tree_node: ast.AST, cst_node: cst.CSTNode) -> None:
        self._cst[id(tree_node)] = cst_node
        self._ast[id(cst_node)] = tree_node
        self._nodes += (tree_node, cst_node)


def pair(tree: ast.Module, module: cst.Module) -> StatementMap:
    """Pair every statement of ``tree`` with ``module``'s; both parsed from the same text."""
    pairing = StatementMap()
    pairing._link(tree, module)
    work: list[tuple[list[ast.stmt], Suite]] = [(tree.body, module)]
    while work:
        statements, suite = work.pop()
        _pair_suite(pairing, statements, suite, work)
    return pairing


def _pair_suite(pairing: StatementMap, statements: list[ast.stmt], suite: Suite, work: list) -> None:
    """Pair one block's statements; the blocks inside its compound statements go to ``work``."""
    if isinstance(suite, cst.SimpleStatementSuite):
        lines: list[cst.CSTNode] = [suite]
    else:
        lines = list(suite.body)
    index = 0
    for line in lines:
        if isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            held = statements[index : index + len(line.body)]
            if len(held) != len(line.body):
                raise PairingError(f"a line of {len(line.body)} statements, {len(held)} left in ast's block")
            for stmt, small in zip(held, line.body):
                if _SMALL.get(type(stmt)) is not type(small):
                    raise PairingError(f"ast {type(stmt).__name__} against LibCST {type(small).__name__}")
                pairing._cst[id(stmt)] = line
                pairing._small[id(stmt)] = small
                pairing._ast[id(small)] = stmt
                pairing._nodes += (stmt, small)
            pairing._ast[id(line)] = held[0]
            pairing._held[id(line)] = held
            pairing._nodes.append(line)
            index += len(held)
        else:
            if index >= len(statements):
                raise PairingError(f"LibCST {type(line).__name__} beyond the end of ast's block")
            _pair_compound(pairing, statements[index], line, work)
            index += 1
    if index != len(statements):
        raise PairingError(f"ast's block has {len(statements) - index} statements more than LibCST's")


def _pair_compound(pairing: StatementMap, stmt: ast.stmt, node: cst.CSTNode, work: list) -> None:
    kind, asynchronous = _COMPOUND.get(type(stmt), (None, False))
    if kind is not type(node) or (asynchronous != (getattr(node, "asynchronous", None) is not None)):
        raise PairingError(f"ast {type(stmt).__name__} against LibCST {type(node).__name__}")
    pairing._link(stmt, node)
    if isinstance(stmt, ast.Match):
        if len(stmt.cases) != len(node.cases):
            raise PairingError("match statements with different numbers of cases")
        for case, cst_case in zip(stmt.cases, node.cases):
            pairing._link(case, cst_case)
            work.append((case.body, cst_case.body))
        return
    work.append((stmt.body, node.body))
    if isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        if len(stmt.handlers) != len(node.handlers):
            raise PairingError("try statements with different numbers of handlers")
        for handler, cst_handler in zip(stmt.handlers, node.handlers):
            pairing._link(handler, cst_handler)
            work.append((handler.body, cst_handler.body))
        _pair_clause(stmt.finalbody, node.finalbody, work)
    orelse = getattr(stmt, "orelse", None)
    if orelse is None:  # with, def, class
        return
    if isinstance(node.orelse, cst.If):  # elif
        if len(orelse) != 1 or not isinstance(orelse[0], ast.If):
            raise PairingError("an elif that ast does not have")
        _pair_compound(pairing, orelse[0], node.orelse, work)
    else:
        _pair_clause(orelse, node.orelse, work)


def _pair_clause(statements: list[ast.stmt], clause: cst.Else | cst.Finally | None, work: list) -> None:
    """An ``else:``/``finally:`` clause: LibCST's clause node (or None) against ast's list."""
    if clause is None:
        if statements:
            raise PairingError("a clause that LibCST does not have")
        return
    if not statements:
        raise PairingError("a clause that ast does not have")
    work.append((statements, clause.body))
