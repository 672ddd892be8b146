"""FT002: check-then-act on a shared container (``if x not in seen: seen.append(x)``)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterator, Sequence

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import NESTED_SCOPES, FileContext, calls_unknown_code, dotted, iter_function_nodes, top_level_bindings
from ftmigrate.locking import MODULE, Domain, Guard, Replace
from ftmigrate.closures import closure_escapes
from ftmigrate.prefilter import ast_dotted, identifier_text
from ftmigrate.rules import Example, Rule, Site
from ftmigrate.treewalk import find_all, walk

# Methods that add or remove members of a list, set, dict or deque.
MUTATORS = frozenset(
    {
        "append", "add", "insert", "update", "extend", "remove", "pop", "discard", "setdefault", "clear",
        "popitem", "appendleft", "extendleft", "popleft", "difference_update", "intersection_update",
        "symmetric_difference_update",
    }
)
_MEMBERSHIP = m.ComparisonTarget(operator=m.In() | m.NotIn())
_GET_CALL = m.Call(func=m.Attribute(attr=m.Name("get")))
_DICT_FACTORY = m.Name("dict") | m.Name("defaultdict") | m.Name("OrderedDict") | m.Attribute(
    value=m.Name("collections"), attr=m.Name("defaultdict") | m.Name("OrderedDict")
)
_DICT_VALUE = m.Dict() | m.DictComp() | m.Call(func=_DICT_FACTORY)
_LITERAL = m.Integer() | m.Float() | m.Imaginary() | m.SimpleString() | m.ConcatenatedString() | m.Name()


@dataclass(frozen=True)
class Container:
    """Shared state an ``if`` tests and changes: ``code`` as written (``self.items``) and
    where its lock lives."""

    code: str
    state: str  # the bare name, used for the lock's name and placement
    domain: Domain
    where: str  # module | closure | instance | class, for the message
    receiver: str | None = None


def _branches(stmt: cst.If) -> tuple[list[cst.If], cst.Else | None]:
    """The ``if`` and its ``elif``s, and the ``else``."""
    links, node = [], stmt
    while isinstance(node, cst.If):
        links.append(node)
        node = node.orelse
    return links, node


def tested(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    """Containers a test asks about: ``x in c``, ``x not in c``, ``c.get(k)``."""
    found = [target.comparator for target in find_all(test, _MEMBERSHIP)]
    found += [call.func.value for call in find_all(test, _GET_CALL)]
    return found


def own_nodes(root: cst.CSTNode) -> list[cst.CSTNode]:
    """``root`` and every node below it, not descending into nested functions or classes."""
    return [root] if isinstance(root, NESTED_SCOPES) else walk(root, prune=NESTED_SCOPES)


def mutations(root: cst.CSTNode) -> Iterator[tuple[cst.BaseExpression, cst.CSTNode]]:
    """(container, node) for each change of a container in ``root`` (not in nested
    functions): ``c.append(x)``, ``c[k] = v``, ``c[k] += 1``, ``del c[k]``."""
    for node in own_nodes(root):
        kind = type(node)
        if kind is cst.Call:
            func = node.func
            if isinstance(func, cst.Attribute) and isinstance(func.attr, cst.Name) and func.attr.value in MUTATORS:
                yield func.value, node
        elif kind is cst.Assign:
            for target in node.targets:
                if isinstance(target.target, cst.Subscript):
                    yield target.target.value, node
        elif (kind is cst.AugAssign or kind is cst.AnnAssign) and isinstance(node.target, cst.Subscript):
            yield node.target.value, node
        elif kind is cst.Del:
            targets = [e.value for e in node.target.elements] if isinstance(node.target, cst.Tuple) else [node.target]
            for target in targets:
                if isinstance(target, cst.Subscript):
                    yield target.value, node


def changed_in(root: cst.CSTNode) -> set[str]:
    return {dotted(c) for c, _ in mutations(root)} - {None}


def _exits(block: cst.BaseSuite) -> bool:
    """The block always leaves: it ends with ``return``, ``raise``, ``continue`` or ``break``."""
    last = block.body[-1] if isinstance(block, cst.SimpleStatementSuite) else None
    if isinstance(block, cst.IndentedBlock) and isinstance(block.body[-1], cst.SimpleStatementLine):
        last = block.body[-1].body[-1]
    return isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break))


@dataclass(frozen=True)
class CheckThenChange:
    """A container an ``if`` tests and then changes, and the statements after the ``if``
    that belong to the same critical section (``if x in seen: return`` / ``seen.add(x)``)."""

    code: str
    followers: tuple[cst.BaseStatement, ...] = ()


def checked_then_changed(stmt: cst.If, after: Sequence[cst.BaseStatement] = ()) -> list[CheckThenChange]:
    """Containers that a test of the ``if`` chain asks about and that the branch it
    guards, a later ``elif``/``else`` branch, or -- when that branch always leaves -- a
    statement after the ``if`` then changes."""
    links, orelse = _branches(stmt)
    asked = [[code for code in map(dotted, tested(link.test)) if code is not None] for link in links]
    if not any(asked):
        return []  # no test asks about a container: nothing to walk the branches for
    branches = [link.body for link in links] + ([orelse.body] if orelse is not None else [])
    changed = [changed_in(branch) for branch in branches]
    changed_after = [changed_in(s) for s in after] if orelse is None else []
    found: dict[str, CheckThenChange] = {}
    for i, link in enumerate(links):
        later = set().union(*changed[i:])
        for code in asked[i]:
            if _exits(link.body) and any(code in c for c in changed_after):
                last = max(k for k, c in enumerate(changed_after) if code in c)
                found[code] = CheckThenChange(code, tuple(after[: last + 1]))
            elif code in later and code not in found:
                found[code] = CheckThenChange(code)
    return list(found.values())


def _pure(expr: cst.BaseExpression) -> bool:
    """A literal or a name: evaluating it has no side effects (and once is like twice)."""
    if m.matches(expr, _LITERAL):
        return True
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        return _pure(expr.expression)
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return all(isinstance(e, cst.Element) and _pure(e.value) for e in expr.elements)
    if isinstance(expr, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _pure(e.key) and _pure(e.value) for e in expr.elements)
    return False


def _only_small_statement(block: cst.BaseSuite) -> cst.BaseSmallStatement | None:
    if isinstance(block, cst.SimpleStatementSuite):
        body = block.body
    elif len(block.body) == 1 and isinstance(block.body[0], cst.SimpleStatementLine):
        body = block.body[0].body
    else:
        return None
    return body[0] if len(body) == 1 else None


def _single_membership(test: cst.BaseExpression, operator: type, container: str) -> cst.BaseExpression | None:
    """``key`` when ``test`` is exactly ``key <operator> container`` with a side-effect-free key."""
    if (
        isinstance(test, cst.Comparison)
        and not test.lpar
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, operator)
        and dotted(test.comparisons[0].comparator) == container
        and _pure(test.left)
    ):
        return test.left
    return None


def _subscript_key(expr: cst.BaseExpression, container: str) -> cst.BaseExpression | None:
    if isinstance(expr, cst.Subscript) and dotted(expr.value) == container and len(expr.slice) == 1:
        index = expr.slice[0].slice
        if isinstance(index, cst.Index) and index.star is None:
            return index.value
    return None


def atomic_form(ctx: FileContext, stmt: cst.If, container: str) -> str | None:
    """The one dict call equivalent to ``stmt``, if there is one (the caller knows the
    container is a dict):

    - ``if k in d: del d[k]``         -> ``d.pop(k, None)``
    - ``if k not in d: d[k] = value`` -> ``d.setdefault(k, value)`` (value a literal or name)
    """
    if stmt.orelse is not None:
        return None
    action = _only_small_statement(stmt.body)
    code = ctx.code
    key = _single_membership(stmt.test, cst.In, container)
    if key is not None and isinstance(action, cst.Del):
        deleted = _subscript_key(action.target, container)
        if deleted is not None and deleted.deep_equals(key):
            return f"{container}.pop({code(key)}, None)"
    key = _single_membership(stmt.test, cst.NotIn, container)
    if key is not None and m.matches(action, m.Assign(targets=[m.AssignTarget()])):
        stored = _subscript_key(action.targets[0].target, container)
        if stored is not None and stored.deep_equals(key) and _pure(action.value):
            return f"{container}.setdefault({code(key)}, {code(action.value)})"
    return None


def replacement(ctx: FileContext, stmt: cst.If, code: str) -> cst.SimpleStatementLine:
    """``code`` as a statement that keeps the comments of ``stmt``: a single end-of-line
    comment stays at the end of the line, any others become lines above it."""
    new = cst.parse_statement(code + ctx.module.config_for_parsing.default_newline, config=ctx.module.config_for_parsing)
    inner = stmt.with_changes(leading_lines=())
    comments = find_all(inner, m.Comment())
    if not comments:
        return new
    trailing = find_all(inner, m.TrailingWhitespace(comment=m.Comment()))
    if len(comments) == 1 and len(trailing) == 1:
        return new.with_changes(trailing_whitespace=trailing[0].with_changes(whitespace=cst.SimpleWhitespace("  ")))
    lines = [cst.EmptyLine(comment=c) for c in comments]
    return new.with_changes(leading_lines=lines)


def _is_dict_value(expr: cst.BaseExpression | None) -> bool:
    return expr is not None and m.matches(expr, _DICT_VALUE)


class _Resolver:
    """Which shared state a container expression names, seen from one function."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.module_assigned = self._module_assigned()
        self.classes = {s.name.value: s for s in ctx.module.body if isinstance(s, cst.ClassDef)}
        self._scopes: dict[int, tuple[set[str], set[str], set[str]]] = {}

    def _scope(self, func: cst.FunctionDef) -> tuple[set[str], set[str], set[str]]:
        """(``global`` names, ``nonlocal`` names, locals and parameters) of ``func``, computed once."""
        if id(func) not in self._scopes:
            ctx = self.ctx
            self._scopes[id(func)] = (
                ctx.declared(func, cst.Global),
                ctx.declared(func, cst.Nonlocal),
                ctx.local_bindings(func) | self._params(func),
            )
        return self._scopes[id(func)]

    def _module_assigned(self) -> set[str]:
        """Module names bound by assignment (not by def, class or import)."""
        names: set[str] = set()
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
                continue
            if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                names |= top_level_bindings(stmt)
        return names

    def _params(self, func: cst.FunctionDef) -> set[str]:
        params = func.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        return {p.name.value for p in every}

    def inner_functions_escape(self, owner: cst.FunctionDef) -> bool:
        """A function defined in ``owner`` leaves it (returned, stored, handed to a thread),
        so its closure variables can outlive the call and be shared. Functions only ever
        called in place (``get_abbr(i)``) share their closure with that one call alone."""
        return closure_escapes(self.ctx, owner) is not None

    def closure_owner(self, func: cst.FunctionDef, name: str) -> cst.FunctionDef | None:
        """The enclosing function whose local ``name`` ``func`` uses (free or ``nonlocal``)."""
        for ancestor in self.ctx.ancestors(func):
            if isinstance(ancestor, cst.FunctionDef):
                globals_, nonlocals, locals_ = self._scope(ancestor)
                if name in globals_:
                    return None
                if name in locals_ and name not in nonlocals:
                    return ancestor
        return None

    def resolve(self, func: cst.FunctionDef, code: str) -> Container | None:
        """``seen``, ``self.items``, ``cls.registry`` or ``Plugin.registry`` as seen from
        ``func``; None for a local or parameter, or anything we cannot place a lock for."""
        ctx = self.ctx
        globals_, nonlocals, locals_ = self._scope(func)
        parts = code.split(".")
        if len(parts) == 1:
            name = parts[0]
            if name in globals_:
                return Container(code, name, MODULE, "module")
            if name in locals_ and name not in nonlocals:
                return None
            owner = self.closure_owner(func, name)
            if owner is not None:
                if name in nonlocals or self.inner_functions_escape(owner):
                    return Container(code, name, Domain("closure", owner), "closure")
                return None
            if name in self.module_assigned:
                return Container(code, name, MODULE, "module")
            return None
        if len(parts) != 2:
            return None
        root, attr = parts
        cls = ctx.method_class(func)
        if cls is not None and ctx.first_param(func) == root:
            kind = ctx.method_kind(func)
            if kind in ("instance", "class"):
                return Container(code, attr, Domain(kind, cls), kind, receiver=root)
            return None
        cls = self.classes.get(root)
        if cls is not None and root not in locals_ and attr in _class_bindings(cls):
            return Container(code, attr, Domain("class", cls), "class", receiver=root)
        return None

    def is_dict(self, container: Container) -> bool:
        """Every assignment of the container makes a dict (so ``pop``/``setdefault`` are
        the dict's own atomic methods)."""
        values = self._assigned_values(container)
        return bool(values) and all(_is_dict_value(v) for v in values)

    def _assigned_values(self, container: Container) -> list[cst.BaseExpression | None]:
        ctx, domain = self.ctx, container.domain
        if domain.kind in ("module", "closure"):
            scope = ctx.scopes[ctx.module] if domain.kind == "module" else ctx.scopes[domain.owner.body]
            values = []
            for assignment in scope.assignments[container.state]:
                node = assignment.node
                parent = ctx.parent(node) if isinstance(node, cst.CSTNode) else None
                if isinstance(parent, cst.AssignTarget):
                    values.append(ctx.parent(parent).value)
                elif isinstance(parent, cst.AnnAssign):
                    if parent.value is not None:  # `d: dict[str, int]` alone binds nothing
                        values.append(parent.value)
                else:
                    values.append(None)
            return values
        cls, attr = domain.owner, container.state
        values = []
        for stmt in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    values += [v for t, v in _assignments(small) if m.matches(t, m.Name(attr))]
        for node in find_all(cls, m.Assign() | m.AnnAssign() | m.AugAssign()):
            values += [v for t, v in _assignments(node) if m.matches(t, m.Attribute(value=m.Name(), attr=m.Name(attr)))]
        return values


def _assignments(node: cst.CSTNode) -> list[tuple[cst.BaseExpression, cst.BaseExpression | None]]:
    if isinstance(node, cst.Assign):
        return [(t.target, node.value) for t in node.targets]
    if isinstance(node, cst.AnnAssign):
        return [(node.target, node.value)] if node.value is not None else []
    if isinstance(node, cst.AugAssign):
        return [(node.target, None)]
    return []


def _class_bindings(cls: cst.ClassDef) -> set[str]:
    names: set[str] = set()
    for stmt in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
        names |= top_level_bindings(stmt)
    return names


def takes_lock(ctx: FileContext, stmts: Sequence[cst.CSTNode]) -> str | None:
    """A lock the statements take themselves (``with lock:`` or ``lock.acquire()``)."""
    for node in (n for stmt in stmts for n in own_nodes(stmt)):
        if isinstance(node, cst.With):
            for item in node.items:
                if ctx.is_lock_expr(item.item):
                    return ctx.code(item.item)
        if m.matches(node, m.Call(func=m.Attribute(attr=m.Name("acquire")))) and ctx.is_lock_expr(node.func.value):
            return ctx.code(node.func.value)
    return None


def _statements_after(ctx: FileContext, stmt: cst.CSTNode) -> Sequence[cst.BaseStatement]:
    block = ctx.parent(stmt)
    if not isinstance(block, cst.IndentedBlock):
        return ()
    index = next(i for i, s in enumerate(block.body) if s is stmt)
    return block.body[index + 1 :]


def _return_reading(after: Sequence[cst.BaseStatement], containers: set[str]) -> tuple[cst.BaseStatement, ...]:
    """``return cache[key]`` right after the locked code joins it, so the value returned is
    the one the critical section ensured (no other thread removes it in between)."""
    if after and m.matches(after[0], m.SimpleStatementLine(body=[m.Return(value=m.MatchIfTrue(lambda v: v is not None))])):
        if any(dotted(node) in containers for node in find_all(after[0], m.Name() | m.Attribute())):
            return (after[0],)
    return ()


# The ast-level prefilter (``CheckThenAct.candidate``): the shapes check() needs, mirrored
# on the standard-library ``ast`` so that files without them are never parsed with LibCST.
# Every test here must hold wherever check() finds a site, so where the ``ast`` cannot tell
# what LibCST sees (which scope owns a name, how a closure escapes), it errs towards True.

_AST_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_AST_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_AST_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
# The text of any file check() reports on: the keyword ``in`` (never spelled otherwise; a
# number may come right before it, as in ``1in c``) or the identifier ``get``.
_TEST_WORD = re.compile(r"in(?!\w)|(?<!\w)get(?!\w)")


def _ast_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists directly inside a compound statement."""
    blocks = [getattr(stmt, name) for name in ("body", "orelse", "finalbody") if hasattr(stmt, name)]
    blocks += [handler.body for handler in getattr(stmt, "handlers", ())]
    blocks += [case.body for case in getattr(stmt, "cases", ())]
    return blocks


def _own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of a scope's own code: nested functions and classes are listed,
    not entered."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if not isinstance(stmt, _AST_SCOPES):
            for block in reversed(_ast_blocks(stmt)):
                stack.extend(reversed(block))


def _own_walk(roots: list[ast.AST]) -> Iterator[ast.AST]:
    """``roots`` and every node below them, not entering nested functions, classes or
    lambdas (like ``own_nodes``)."""
    stack = list(roots)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _AST_SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def _ast_tested(test: ast.expr) -> set[str]:
    """Containers ``test`` asks about (as ``tested``), only those ``_Resolver.resolve`` can
    place: a name or ``receiver.attribute``."""
    found = set()
    for node in ast.walk(test):
        if isinstance(node, ast.Compare):
            found.update(ast_dotted(c) for op, c in zip(node.ops, node.comparators) if isinstance(op, (ast.In, ast.NotIn)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            found.add(ast_dotted(node.func.value))
    return {code for code in found if code is not None and code.count(".") <= 1}


def _ast_changed(roots: list[ast.AST]) -> set[str]:
    """Containers changed in ``roots`` (as ``changed_in``)."""
    found = set()
    for node in _own_walk(roots):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                found.add(ast_dotted(node.func.value))
        elif isinstance(node, ast.Assign):
            found.update(ast_dotted(t.value) for t in node.targets if isinstance(t, ast.Subscript))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            if isinstance(node.target, ast.Subscript):
                found.add(ast_dotted(node.target.value))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                for t in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                    if isinstance(t, ast.Subscript):
                        found.add(ast_dotted(t.value))
    found.discard(None)
    return found


def _alias_name(alias: ast.alias) -> str:
    return alias.asname or alias.name.split(".")[0]


def _any_bindings(roots: list[ast.AST]) -> set[str]:
    """A superset of the names ``roots`` bind in their own scope, by any means."""
    names: set[str] = set()
    for node in _own_walk(roots):
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(_alias_name(node))
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            if node.name:
                names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


class _AstFunction:
    """What ``_Resolver`` asks of one function, from its ``ast``; worked out on demand.

    Only ever says "maybe shared": ``resolve``'s negative tests (a local or parameter, a
    ``staticmethod``) are left out, since LibCST compares names as written and the ``ast``
    after NFKC normalisation (``ｓｅｅｎ`` is ``seen`` here, not there)."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, outer: tuple, method_of: ast.ClassDef | None) -> None:
        self.node = node
        self.outer: tuple[_AstFunction, ...] = outer  # enclosing functions, nearest first
        self.method_of = method_of  # the class whose body defines it
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        self.first_param = positional[0].arg if positional else None
        self._declared: tuple[set[str], set[str]] | None = None
        self._bindings: set[str] | None = None
        self._escapes: bool | None = None

    def declared(self) -> tuple[set[str], set[str]]:
        """(``global`` names, ``nonlocal`` names) of its own code."""
        if self._declared is None:
            globals_, nonlocals = set(), set()
            for stmt in _own_statements(self.node.body):
                if isinstance(stmt, ast.Global):
                    globals_.update(stmt.names)
                elif isinstance(stmt, ast.Nonlocal):
                    nonlocals.update(stmt.names)
            self._declared = (globals_, nonlocals)
        return self._declared

    def may_own(self, name: str) -> bool:
        """``name`` may be a local or parameter of this function (a closure's owner)."""
        if self._bindings is None:
            args = self.node.args
            params = (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
            self._bindings = {a.arg for a in params if a is not None} | _any_bindings(self.node.body)
        return name in self._bindings

    def escapes(self) -> bool:
        """Some function defined here may leave it (a superset of ``inner_functions_escape``:
        its name is used other than as the function of a call)."""
        if self._escapes is None:
            defined = [s for s in _own_statements(self.node.body) if isinstance(s, _AST_FUNCTIONS)]
            inner = {s.name for s in defined}
            decorated = any(s.decorator_list for s in defined)
            self._escapes = bool(inner) and (decorated or _used_not_called(self.node.body, inner))
        return self._escapes


def _used_not_called(body: list[ast.stmt], names: set[str]) -> bool:
    """One of ``names`` occurs in ``body`` (nested functions included) other than as a
    called name outside lambdas (LibCST sees a Name node in attributes, keywords, imports
    and declarations too)."""
    nodes = [n for stmt in body for n in ast.walk(stmt)]
    in_lambdas = {id(n) for lam in nodes if isinstance(lam, ast.Lambda) for n in ast.walk(lam.body)}
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call) and id(n) not in in_lambdas}
    for node in nodes:
        if isinstance(node, ast.Name):
            if node.id in names and id(node) not in called:
                return True
        elif isinstance(node, ast.Attribute):
            if node.attr in names:
                return True
        elif isinstance(node, ast.keyword):
            if node.arg in names:
                return True
        elif isinstance(node, ast.alias):
            if not names.isdisjoint(node.name.split(".")) or node.asname in names:
                return True
        elif isinstance(node, ast.ImportFrom):
            if node.module and not names.isdisjoint(node.module.split(".")):
                return True
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            if not names.isdisjoint(node.names):
                return True
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            if node.name in names:
                return True
        elif isinstance(node, ast.MatchMapping):
            if node.rest in names:
                return True
        elif isinstance(node, ast.MatchClass):
            if not names.isdisjoint(node.kwd_attrs):
                return True
    return False


class _AstScan:
    """Looks for one ``if`` that check() would make a candidate of (tests a container it
    or what follows then changes, and the container may be shared state)."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self._module_assigned: set[str] | None = None
        self._class_bindings: dict[str, set[str]] = {}
        self.classes: dict[str, list[ast.ClassDef]] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef):
                self.classes.setdefault(stmt.name, []).append(stmt)

    def found(self) -> bool:
        return self._block(self.tree.body, (), None, False)

    def _block(self, body: list[ast.stmt], functions: tuple, cls: ast.ClassDef | None, in_function: bool) -> bool:
        """``functions``: the enclosing functions, nearest first; ``cls``: the class whose
        body ``body`` is; ``in_function``: the nearest scope is a function."""
        for i, stmt in enumerate(body):
            if isinstance(stmt, _AST_FUNCTIONS):
                function = _AstFunction(stmt, functions, cls)
                if self._block(stmt.body, (function, *functions), None, True):
                    return True
            elif isinstance(stmt, ast.ClassDef):
                if self._block(stmt.body, functions, stmt, False):
                    return True
            elif isinstance(stmt, ast.If):
                if in_function and self._if(functions[0], stmt, body[i + 1 :]):
                    return True
                node = stmt
                while True:  # the `elif`s were checked as links of this chain
                    if self._block(node.body, functions, None, in_function):
                        return True
                    if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                        node = node.orelse[0]
                    else:
                        break
                if self._block(node.orelse, functions, None, in_function):
                    return True
            else:
                for block in _ast_blocks(stmt):
                    if self._block(block, functions, None, in_function):
                        return True
        return False

    def _if(self, function: _AstFunction, stmt: ast.If, after: list[ast.stmt]) -> bool:
        """As ``checked_then_changed``, then ``_Resolver.resolve`` (an ``else: if`` is
        taken for an ``elif``: that only adds links)."""
        links = [stmt]
        while len(links[-1].orelse) == 1 and isinstance(links[-1].orelse[0], ast.If):
            links.append(links[-1].orelse[0])
        tested = [_ast_tested(link.test) for link in links]
        if not any(tested):
            return False
        final = links[-1].orelse
        changed = [_ast_changed(link.body) for link in links] + [_ast_changed(final) if final else set()]
        changed_after = None
        for i, link in enumerate(links):
            if not tested[i]:
                continue
            codes = tested[i] & set().union(*changed[i:])
            if not final and link.body and isinstance(link.body[-1], _AST_EXITS):
                if changed_after is None:
                    changed_after = _ast_changed(after)
                codes |= tested[i] & changed_after
            if any(self._shared(function, code) for code in codes):
                return True
        return False

    def _shared(self, function: _AstFunction, code: str) -> bool:
        """A superset of the codes ``_Resolver.resolve`` places (gives a Container for):
        ``self.x`` in a method whose first parameter is ``self``, ``Cls.x`` for a module-level
        class binding ``x``; a name declared ``global``, one an enclosing function may bind
        when this one declares it ``nonlocal`` or that one may let an inner function out, or
        one bound at module level (not by ``def``, ``class`` or ``import`` there)."""
        if "." in code:
            root, attr = code.split(".")
            if function.method_of is not None and function.first_param == root:
                return True
            return root in self.classes and attr in self.class_bindings(root)
        globals_, nonlocals = function.declared()
        if code in globals_:
            return True
        if any(outer.may_own(code) and (code in nonlocals or outer.escapes()) for outer in function.outer):
            return True
        return code in self.module_assigned()

    def module_assigned(self) -> set[str]:
        """A superset of ``_Resolver.module_assigned``."""
        if self._module_assigned is None:
            skipped = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
            self._module_assigned = _any_bindings([s for s in self.tree.body if not isinstance(s, skipped)])
        return self._module_assigned

    def class_bindings(self, name: str) -> set[str]:
        """A superset of ``_class_bindings`` of the module-level class ``name``."""
        if name not in self._class_bindings:
            self._class_bindings[name] = set().union(*(_any_bindings(cls.body) for cls in self.classes[name]))
        return self._class_bindings[name]


@dataclass(eq=False)
class _Candidate:
    stmt: cst.CSTNode  # the `if`, or for a change already under a lock, its statement
    function: cst.FunctionDef
    container: Container
    followers: tuple[cst.BaseStatement, ...] = ()
    nested: bool = False  # inside another candidate `if`, whose lock will cover it


class CheckThenAct(Rule):
    """
    ## What it does
    Finds a test of a shared container followed by a change of that container in the
    branch the test guards: `if x not in seen: seen.append(x)`, `if k in d: del d[k]`,
    `if k not in cache: cache[k] = compute(k)`, `if not d.get(k): ...`,
    `if d.get(k) is None: ...`; also when the change is in an `elif`/`else` branch, or
    after an `if` that leaves (`if x in seen: return` then `seen.add(x)`). Changes are
    `append`, `add`, `insert`, `extend`, `update`, `remove`, `discard`, `pop`,
    `setdefault`, `clear`, `c[k] = v`, `c[k] += v` and `del c[k]`.

    Shared means: a module-level name, a `global` or `nonlocal` name, a closure
    variable of a function that leaves its parent (returned or handed to a thread), a
    class attribute (`cls.x`, `ClassName.x`) or instance state (`self.x`). A container
    created in the same function, or passed in as a parameter, is not reported.

    ## Why is this bad under free-threading?
    `x in seen` and `seen.append(x)` are each atomic, the pair is not: two threads both
    find `x` missing and both append it. On free-threaded CPython 3.13t, six threads
    adding the same 300 items to such a list got duplicates in a third to a half of 200
    trials, and a compute-on-miss cache computed keys twice about as often (never after
    the fix).

    ## Example
    ```python
    seen = []

    def remember(item):
        if item not in seen:
            seen.append(item)
    ```

    ## Use instead
    ```python
    import threading

    seen = []
    _seen_lock = threading.Lock()

    def remember(item):
        with _seen_lock:
            if item not in seen:
                seen.append(item)
    ```

    ## Fix safety
    Safe (`ftmigrate apply`): the one-call rewrites of a dict, `if k in d: del d[k]` to
    `d.pop(k, None)` and `if k not in d: d[k] = value` to `d.setdefault(k, value)`; and a
    lock around a test and change that call nothing but the container's own methods and
    builtins (`if x not in seen: seen.append(x)`).

    Unsafe (only with `--unsafe-fixes`): the locked block calls other code
    (`cache[k] = compute(k)`, `self.items.append(self.make())`): it now runs with the lock
    held, so concurrent misses wait for each other (each key is computed once), and code
    that blocks, takes another lock, or is an override that calls back from another thread
    can make threads wait or deadlock. A new lock is then an `RLock`, so a call back into
    the same code on the same thread still works. Also unsafe: a new lock for `self.x`
    state is one class attribute shared by every instance, so unrelated instances wait for
    each other.

    The one-call rewrites apply only when every assignment of `d` makes a dict (`{}`,
    `dict()`, `defaultdict()`), the key and value are literals or names (`setdefault`
    evaluates the value even when the key exists), there is no `else`, and no other code
    relies on a lock for `d`. Everything else is wrapped whole, test and all branches, in
    `with <lock>:`; after an `if` that leaves, the statements up to the last change join
    the block, and so does a `return cache[key]` right after it. The lock is a
    module-level lock for module and `global` containers, one in the enclosing function for
    closure containers, and for `self.x`, `cls.x` and `ClassName.x` a new class attribute
    `_x_lock = threading.Lock()`, shared by all instances: correct, but coarse. A lock that
    already guards the container elsewhere is reused when it is a proven `threading` lock
    (`ftmigrate.threadlocks`), else the finding is not fixed.

    Not fixed, and reported with the reason: a container that other code changes without
    any lock (cachetools' `FIFOCache`: the test in `__setitem__` locked, `del` in
    `__delitem__` and `clear()` not, so they still race with it; every change has to go
    under one lock, by hand); an `if` whose branch already takes a lock; one that awaits or
    yields; one that calls a function of the same module that takes the reused lock
    itself (holding it would deadlock).
    """

    code = "FT002"
    name = "check-then-act"
    summary = "membership test then change of a shared container without a lock"
    tokens = (" in ", ".get(")

    VALID = [
        "def f(items):\n    seen = []\n    for x in items:\n        if x not in seen:\n            seen.append(x)\n",
        "import threading\nseen = []\nlock = threading.Lock()\n\ndef f(x):\n    with lock:\n        if x not in seen:\n            seen.append(x)\n",
        "seen = []\n\ndef f(x):\n    if x in seen:\n        print(x)\n",
        "def f(seen, x):\n    if x not in seen:\n        seen.append(x)\n",
        "seen = []\n\ndef f(x):\n    if x not in seen:  # ftmigrate: ignore[FT002]\n        seen.append(x)\n",
        "def load(data):\n    names = {}\n\n    def name(i):\n        if i not in names:\n            names[i] = data[i].decode()\n"
        "        return names[i]\n\n    return [name(i) for i in range(len(data))]\n",
    ]
    INVALID = [
        Example(
            "seen = []\n\ndef remember(item):\n    if item not in seen:\n        seen.append(item)\n",
            "import threading\n\nseen = []\n_seen_lock = threading.Lock()\n\n"
            "def remember(item):\n    with _seen_lock:\n        if item not in seen:\n            seen.append(item)\n",
        ),
        Example(
            "cache = {}\n\ndef get(k):\n    if k not in cache:\n        cache[k] = compute(k)\n    return cache[k]\n",
            "import threading\n\ncache = {}\n_cache_lock = threading.RLock()\n\n"
            "def get(k):\n    with _cache_lock:\n        if k not in cache:\n            cache[k] = compute(k)\n        return cache[k]\n",
            unsafe=True,
        ),
        Example(
            "pending = {}\n\ndef done(k):\n    if k in pending:\n        del pending[k]\n",
            "pending = {}\n\ndef done(k):\n    pending.pop(k, None)\n",
        ),
        Example(
            "counts = {}\n\ndef start(k):\n    if k not in counts:\n        counts[k] = 0\n",
            "counts = {}\n\ndef start(k):\n    counts.setdefault(k, 0)\n",
        ),
        Example(
            "import threading\n\nclass Registry:\n    def __init__(self):\n        self._lock = threading.Lock()\n        self.names = set()\n\n"
            "    def register(self, name):\n        if name in self.names:\n            return False\n        else:\n            self.names.add(name)\n            return True\n\n"
            "    def listing(self):\n        with self._lock:\n            return sorted(self.names)\n",
            "import threading\n\nclass Registry:\n    def __init__(self):\n        self._lock = threading.Lock()\n        self.names = set()\n\n"
            "    def register(self, name):\n        with self._lock:\n            if name in self.names:\n                return False\n            else:\n"
            "                self.names.add(name)\n                return True\n\n"
            "    def listing(self):\n        with self._lock:\n            return sorted(self.names)\n",
        ),
        Example(
            "import threading\nseen = []\nlock = threading.Lock()\n\ndef f(x):\n    if x not in seen:\n        with lock:\n            seen.append(x)\n",
            None,
        ),
    ]

    def prefilter(self, text: str) -> bool:
        """The text holds the keyword ``in`` or the identifier ``get`` (the test), and a
        ``[`` or the name of a changing method (the change). Unlike ``tokens``, this does
        not depend on blanks: ``k in(cache)`` and ``cache.get (k)`` count too."""
        text = identifier_text(text)
        if text is None:
            return True
        if _TEST_WORD.search(text) is None:
            return False
        return "[" in text or any(name in text for name in MUTATORS)

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """Some ``if`` directly in a function's code tests a container (``x in c``,
        ``x not in c``, ``c.get(k)``; ``c`` a name or ``receiver.attribute``) that the
        branch it guards or a later ``elif``/``else`` changes, or -- when that branch
        always leaves and there is no ``else`` -- a statement after the ``if`` does; and
        the container may be shared: a name declared ``global``, bound at module level or
        in an enclosing function that may let an inner function out (or it is
        ``nonlocal``); ``self.x``/``cls.x`` in a method whose first parameter it is; or
        ``Cls.x`` for a module-level class ``Cls`` whose body binds ``x``. Locks play no
        part: a change already under a lock is only reported alongside such an ``if``."""
        return _AstScan(tree).found()

    def check(self, ctx: FileContext) -> Iterator[Site]:
        resolver = _Resolver(ctx)
        candidates: list[_Candidate] = []
        changes: list[_Candidate] = []  # every change of a shared container, to find the locks already used
        for func in ctx.find(cst.FunctionDef):
            for node in iter_function_nodes(func):
                if isinstance(node, cst.If) and not isinstance(ctx.parent(node), cst.If):  # an `elif` is part of its `if`
                    candidates += self._candidates(ctx, resolver, func, node)
            for expr, node in mutations(func.body):
                code = dotted(expr)
                container = resolver.resolve(func, code) if code else None
                if container is not None:
                    changes.append(_Candidate(ctx.statement_of(node), func, container))
        spans = {id(s) for c in candidates for s in (c.stmt, *c.followers)}
        shared = {id(c.stmt) for c in candidates if sum(d.stmt is c.stmt for d in candidates) > 1}
        for cand in candidates:
            cand.nested = id(cand.stmt) in shared or any(id(a) in spans for a in ctx.ancestors(cand.stmt))
        by_state: dict[tuple, list[_Candidate]] = {}
        for cand in candidates:
            by_state.setdefault(_state_key(cand), []).append(cand)
        for key, group in by_state.items():
            elsewhere = [c for c in changes if _state_key(c) == key]
            yield from self._sites(ctx, resolver, group, elsewhere)

    @staticmethod
    def _candidates(ctx: FileContext, resolver: _Resolver, func: cst.FunctionDef, stmt: cst.If) -> list[_Candidate]:
        """One candidate per shared container the ``if`` tests and changes. Containers
        whose lock lives elsewhere than the first one's (module vs. instance) are left out:
        one statement gets one lock."""
        after = _statements_after(ctx, stmt)
        found = [(f, resolver.resolve(func, f.code)) for f in checked_then_changed(stmt, after)]
        found = [(f, c) for f, c in found if c is not None]
        if not found:
            return []
        found = [(f, c) for f, c in found if c.domain == found[0][1].domain]
        # The critical section runs to the last change of any of them (`del a[k]` ... `del b[v]`).
        followers = max((f.followers for f, _ in found), key=len)
        followers += _return_reading(after[len(followers) :], {f.code for f, _ in found})
        return [_Candidate(stmt, func, c, followers) for _, c in found]

    def _sites(self, ctx: FileContext, resolver: _Resolver, group: list[_Candidate], changes: list[_Candidate]) -> Iterator[Site]:
        container = group[0].container
        message = (
            f"`{container.code}` ({container.where} state) is tested and then changed without a lock; "
            "two threads can both pass the test (check-then-act)"
        )
        # Changes already under a lock: not findings, but they tell the planner which lock
        # guards this container, so the fix reuses it.
        known = [(c, ctx.guard_of(c.stmt)) for c in changes]
        known = [(c, lock) for c, lock in known if lock is not None]
        for cand, lock in known:
            yield self.site(cand.stmt, message, domain=container.domain, fix=_guard(cand), guarded_by=lock)
        locked = {id(c): ctx.guard_of(c.stmt) for c in group}
        atomic = {id(c): None if c.nested else atomic_form(ctx, c.stmt, container.code) for c in group}
        # One atomic call only helps if nothing relies on a lock for this container.
        use_atomic = all(atomic.values()) and not known and resolver.is_dict(container)
        unlocked = [] if use_atomic else _unlocked_changes(ctx, group, changes)
        for cand in group:
            inner_lock = takes_lock(ctx, (cand.stmt, *cand.followers))
            if unlocked and locked[id(cand)] is None:
                reason = _uncovered_reason(ctx, container.code, unlocked)
                yield self.site(cand.stmt, message, unfixable_reason=reason, **_span(cand))
            elif use_atomic:
                fix = Replace(cand.stmt, replacement(ctx, cand.stmt, atomic[id(cand)]))
                yield self.site(cand.stmt, message, domain=container.domain, fix=fix)
            elif inner_lock is not None and locked[id(cand)] is None:
                reason = f"a branch already takes `{inner_lock}`; move the test under that lock by hand"
                yield self.site(cand.stmt, message, unfixable_reason=reason, **_span(cand))
            else:
                yield self.site(cand.stmt, message, domain=container.domain, fix=_guard(cand), guarded_by=locked[id(cand)])


_NOT_SHARED_YET = frozenset({"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__"})


def _unlocked_changes(ctx: FileContext, group: list[_Candidate], changes: list[_Candidate]) -> list[cst.CSTNode]:
    """Changes of the group's container that no lock covers, outside the group's own
    critical sections and constructors: a lock around the test alone would not make the
    container safe (cachetools' FIFOCache: the test in ``__setitem__`` locked, ``del`` in
    ``__delitem__`` and ``clear()`` not, so another thread still changes it in between)."""
    spans = {id(s) for c in group for s in (c.stmt, *c.followers)}
    found = []
    for change in changes:
        if change.function.name.value in _NOT_SHARED_YET or ctx.guard_of(change.stmt) is not None:
            continue
        if id(change.stmt) in spans or any(id(a) in spans for a in ctx.ancestors(change.stmt)):
            continue
        found.append(change.stmt)
    return list(dict.fromkeys(found))


def _uncovered_reason(ctx: FileContext, code: str, unlocked: list[cst.CSTNode]) -> str:
    lines = sorted({ctx.position(s).start.line for s in unlocked})
    shown = ", ".join(map(str, lines[:4])) + (", ..." if len(lines) > 4 else "")
    return (
        f"`{code}` is also changed without a lock elsewhere (line{'s' if len(lines) > 1 else ''} {shown}); "
        "a lock around this test alone would not stop those changes from racing with it: lock every "
        "change of it with one lock by hand"
    )


def _state_key(cand: _Candidate) -> tuple:
    return (cand.container.domain, cand.container.state, cand.container.code)


def _span(cand: _Candidate) -> dict:
    """What an unfixed site tells the confidence: the state and the critical section."""
    return {"domain": cand.container.domain, "state": cand.container.state, "followers": cand.followers}


def _guard(cand: _Candidate) -> Guard:
    container = cand.container
    return Guard(
        stmt=cand.stmt,
        state=container.state,
        domain=container.domain,
        function=cand.function,
        reentrant=any(
            calls_unknown_code(stmt, safe_receivers=frozenset({container.code})) for stmt in (cand.stmt, *cand.followers)
        ),
        receiver=container.receiver,
        followers=cand.followers,
    )
