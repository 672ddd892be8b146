"""Fast walks over a LibCST tree: children, pre-order, parents, positions.

LibCST's visitors rebuild every node they pass, which makes a full pass over a large
module cost seconds; these walks only read attributes. Results are identical to LibCST's
own (``node.children`` order, ``ParentNodeProvider``, ``PositionProvider``), which
``tests/test_treewalk.py`` checks on real files.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from typing import Callable, Iterable, Iterator

import libcst as cst
import libcst.matchers as m
from libcst import CSTNode
from libcst.matchers._matcher_base import _construct_metadata_fetcher_null, _matches  # what findall uses
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import NEWLINE_RE

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that may hold children, in the order LibCST visits them.

    A class's ``_visit_and_replace_children`` rebuilds the node with one keyword argument
    per field, visiting each as its argument is evaluated, left to right: the order of the
    keyword names, which the compiler keeps as one tuple constant of the code object.
    """
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        names = {f.name for f in dataclasses.fields(cls)}
        code = cls._visit_and_replace_children.__code__
        keywords = [c for c in code.co_consts if type(c) is tuple and c and all(n in names for n in c)]
        fields = _CHILD_FIELDS[cls] = max(keywords, key=len) if keywords else ()
    return fields


_IS_NODE: dict[type, bool] = {}


def _is_node_type(kind: type) -> bool:
    # isinstance(x, CSTNode) goes through ABCMeta, which is slow for millions of calls.
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, CSTNode)
    return known


_GETTERS: dict[type, Callable[[CSTNode], tuple]] = {}


def _field_getter(cls: type) -> Callable[[CSTNode], tuple]:
    """A function giving the values of ``child_fields(cls)`` as a tuple (one C call)."""
    fields = child_fields(cls)
    if not fields:
        getter = _no_fields
    elif len(fields) == 1:
        one = operator.attrgetter(fields[0])
        getter = lambda node: (one(node),)  # noqa: E731
    else:
        getter = operator.attrgetter(*fields)
    _GETTERS[cls] = getter
    return getter


def _no_fields(node: CSTNode) -> tuple:
    return ()


def children(node: CSTNode) -> list[CSTNode]:
    """``node.children`` without rebuilding ``node``. (A sequence field holds nodes only; a
    single field may hold a string, None or a sentinel.)"""
    kind = type(node)
    values = (_GETTERS.get(kind) or _field_getter(kind))(node)
    out: list[CSTNode] = []
    for value in values:
        value_kind = type(value)
        if value_kind is tuple or value_kind is list:
            out.extend(value)
        elif _IS_NODE.get(value_kind) or (value_kind not in _IS_NODE and _is_node_type(value_kind)):
            out.append(value)
    return out


def type_test(types: tuple[type, ...]) -> Callable[[CSTNode], bool]:
    """``isinstance(node, types)`` as a function, cached per class (LibCST's node classes
    are ABCs, whose isinstance is slow for millions of calls)."""
    cache: dict[type, bool] = {}

    def test(node: CSTNode) -> bool:
        kind = type(node)
        hit = cache.get(kind)
        if hit is None:
            hit = cache[kind] = issubclass(kind, types)
        return hit

    return test


def walk(root: CSTNode, prune: Callable[[CSTNode], bool] | tuple[type, ...] = ()) -> list[CSTNode]:
    """``root`` and its descendants in pre-order (LibCST's visiting order); nodes for which
    ``prune`` holds (or of the ``prune`` types) are listed but not descended into."""
    if isinstance(prune, tuple):
        prune = type_test(prune)
    out: list[CSTNode] = [root]
    stack: list[CSTNode] = list(reversed(children(root)))
    while stack:
        node = stack.pop()
        out.append(node)
        if not prune(node):
            stack.extend(reversed(children(node)))
    return out


class NodeMap(Mapping):
    """A mapping from the nodes of one tree, keyed by identity (LibCST nodes hash in Python,
    which costs more than building the whole map by ``id``). The tree keeps the nodes alive."""

    def __init__(self, root: CSTNode, values: dict[int, object]) -> None:
        self._root = root
        self._values = values

    def __getitem__(self, node: CSTNode):
        return self._values[id(node)]

    def get(self, node: CSTNode, default=None):
        return self._values.get(id(node), default)

    def __contains__(self, node: object) -> bool:
        return id(node) in self._values

    def __iter__(self) -> Iterator[CSTNode]:
        return (node for node in walk(self._root) if id(node) in self._values)

    def __len__(self) -> int:
        return len(self._values)


def index(root: CSTNode, prune: Callable[[CSTNode], bool] | None = None) -> tuple[list[CSTNode], NodeMap]:
    """In one pass: every node in pre-order, and every node's parent (as ``ParentNodeProvider``).
    Nodes for which ``prune`` holds are listed, with their parent, but not entered."""
    nodes: list[CSTNode] = []
    parents: dict[int, CSTNode] = {}
    stack: list[CSTNode] = [root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if prune is not None and node is not root and prune(node):
            continue
        below = children(node)
        for child in below:
            parents[id(child)] = node
        stack.extend(reversed(below))
    return nodes, NodeMap(root, parents)


# --- positions ----------------------------------------------------------------------------
class _Recorder:
    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: "_PositionState", node: CSTNode, start_node: CSTNode | None, end_node: CSTNode | None) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc) -> None:
        state = self.state
        computed = state.computed
        start = computed[id(self.start_node)][:2] if self.start_node is not None else self.start
        end = computed[id(self.end_node)][2:] if self.end_node is not None else (state.line, state.column)
        computed[id(self.node)] = start + end


class _NoRecord:
    __slots__ = ()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        pass


_NO_RECORD = _NoRecord()


class _PositionState(CodegenState):
    """What ``PositionProvider``'s codegen state computes, as plain tuples: the same walk
    through LibCST's own codegen, at a fraction of the cost. With ``targets``, ranges are
    recorded only inside those nodes; elsewhere only the line and column are followed."""

    def __init__(self, module: cst.Module, targets: set[int] | None) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1  # one-indexed
        self.column = 0  # zero-indexed
        self.targets = targets
        self.depth = 1 if targets is None else 0  # > 0: inside a node whose range is wanted
        self.stack: list[tuple[int, int]] = []
        self.computed: dict[int, tuple[int, int, int, int]] = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        if not self.tokens:
            self.tokens.append(value)  # codegen only asks whether any token was added
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
        else:
            segments = NEWLINE_RE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])

    def before_codegen(self, node: CSTNode) -> None:
        if self.targets is not None and id(node) in self.targets:
            self.depth += 1
        if self.depth:
            self.stack.append((self.line, self.column))

    def after_codegen(self, node: CSTNode) -> None:
        if self.depth:
            start = self.stack.pop()
            if id(node) not in self.computed:  # a syntactic position recorded inside wins
                self.computed[id(node)] = start + (self.line, self.column)
        if self.targets is not None and id(node) in self.targets:
            self.depth -= 1

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _Recorder(self, node, start_node, end_node) if self.depth else _NO_RECORD


class Positions(NodeMap):
    """node -> ``CodeRange``, as ``PositionProvider`` gives; ranges are built on lookup."""

    def __getitem__(self, node: CSTNode) -> CodeRange:
        line, column, end_line, end_column = self._values[id(node)]
        return CodeRange(CodePosition(line, column), CodePosition(end_line, end_column))

    def get(self, node: CSTNode, default=None):
        return self[node] if node in self else default


def statement_starts(tree) -> list[int]:
    """The first line of each top-level statement of a standard-library ``ast`` tree (a
    decorated definition starts at its first decorator): what ``positions`` needs to
    codegen only some statements."""
    return [min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))]) for stmt in tree.body]


def _libcst_starts(module: cst.Module, ast_starts: list[int]) -> list[int] | None:
    """The line where each of ``module.body``'s statements starts, its leading blank and
    comment lines included, from the ``ast`` statements' starts; None if they do not pair up
    (one LibCST line holds each ``ast`` statement of ``a; b``)."""
    starts, j = [], 0
    for stmt in module.body:
        if j >= len(ast_starts):
            return None
        starts.append(ast_starts[j] - len(stmt.leading_lines))
        j += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
    return starts if j == len(ast_starts) else None


def statement_positions(
    module: cst.Module, targets: Iterable[CSTNode], tops: set[int], ast_starts: list[int], lines: int
) -> Positions | None:
    """``positions(module, targets)`` by a codegen of only the top-level statements that hold
    a target (``tops``: their ids), each started at its line as the ``ast`` tree knows it
    (``ast_starts``, from ``statement_starts``; ``lines``: the file's number of lines).

    Each statement's codegen must end exactly where the next statement (or the module's
    footer) starts; if one does not, the line numbers do not pair up (a decorator after a
    line continuation, say) and the answer is None: use ``positions``.
    """
    starts = _libcst_starts(module, ast_starts)
    if starts is None:
        return None
    ends = starts[1:] + [lines + 1 - len(module.footer)]
    state = _PositionState(module, {id(t) for t in targets})
    for stmt, start, end in zip(module.body, starts, ends):
        if id(stmt) in tops:
            state.line, state.column = start, 0
            stmt._codegen(state)
            if (state.line, state.column) != (end, 0):
                return None
    return Positions(module, state.computed)


def positions(module: cst.Module, targets: Iterable[CSTNode] | None = None) -> Positions:
    """``PositionProvider``'s range of every node (same values, computed faster), or only of
    ``targets`` and the nodes inside them (cheaper still: one pass, mostly not recording)."""
    state = _PositionState(module, None if targets is None else {id(t) for t in targets})
    module._codegen(state)
    return Positions(module, state.computed)


def _matcher_types(matcher) -> tuple[type, ...] | None:
    """The node classes a matcher can match (``m.Call()`` -> ``cst.Call``; ``a | b`` -> both),
    or None when that is not plain to see."""
    if isinstance(matcher, m.OneOf):
        kinds = [_matcher_types(option) for option in matcher.options]
        return None if any(k is None for k in kinds) else tuple(t for k in kinds for t in k)
    kind = getattr(cst, type(matcher).__name__, None)
    return (kind,) if isinstance(kind, type) and issubclass(kind, CSTNode) and type(matcher).__module__.startswith("libcst.matchers") else None


def find_all(root: CSTNode, matcher) -> list[CSTNode]:
    """``libcst.matchers.findall(root, matcher)`` (same nodes, same order) without LibCST's
    visitor, which rebuilds every node it passes; for matchers without metadata."""
    kinds = _matcher_types(matcher)
    nodes = walk(root)
    if kinds is not None:
        wanted = type_test(kinds)
        nodes = [node for node in nodes if wanted(node)]
    lookup = _construct_metadata_fetcher_null()
    return [node for node in nodes if _matches(node, matcher, lookup) is not None]
