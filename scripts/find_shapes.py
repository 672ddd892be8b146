"""The canonical racy shapes in a library's code, found with the standard ``ast`` alone.

This is the recall set's source: it must not use ftmigrate's own analysis, or recall would be
the tool measured against itself. A site is a shape, not a verdict; each is judged by hand.

Shapes (``SHAPE_RULE`` maps each to the rule expected to report it):
- ``global_rmw`` / ``nonlocal_rmw``: ``global x`` (``nonlocal x``) then ``x += ...`` or ``x = x ...``;
- ``check_then_act``: ``if k not in C:`` whose body stores into ``C`` (``C[k] = ``, ``C.append``,
  ``C.add``, ...), with ``C`` an attribute or a name the function does not bind;
- ``lazy_init``: ``if X is None:`` / ``if not X:`` whose body assigns ``X``, with ``X`` an attribute
  (``self._x``, ``cls._instance``) or a name declared ``global``;
- ``attr_rmw``: ``obj.attr += ...``; ``item_rmw``: ``C[k] += ...`` with ``C`` an attribute or a name
  the function does not bind.

Each site also gets a ``scope``: ``shared-name`` when the state hangs off a name the function
does not bind (module state, a class, an imported module, a closure variable) or ``cls``,
``bound`` otherwise (``self.x``, a parameter's or local's attribute).
"""

from __future__ import annotations

import ast
import warnings

SHAPE_RULE = {
    "global_rmw": "FT001",
    "nonlocal_rmw": "FT001",
    "check_then_act": "FT002",
    "lazy_init": "FT003",
    "attr_rmw": "FT004",
    "item_rmw": "FT004",
}
MUTATORS = frozenset({"append", "add", "insert", "extend", "update", "setdefault", "__setitem__"})
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def own_nodes(func: ast.AST):
    """The nodes of a function's own body, not those of nested functions, classes or lambdas."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*FUNCTIONS, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def bound_names(func: ast.AST) -> set[str]:
    """Names the function binds locally (parameters, assignments, loops, imports, ...)."""
    names = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    for node in own_nodes(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            names.add(node.name)
    return names


def shared_looking(expr: ast.AST, bound: set[str], declared: set[str]) -> bool:
    """An attribute, or a name that is global/nonlocal or not bound by the function."""
    if isinstance(expr, ast.Attribute):
        return True
    return isinstance(expr, ast.Name) and (expr.id in declared or expr.id not in bound)


def base_name(expr: ast.AST) -> ast.Name | None:
    """The name an attribute/subscript chain starts from: ``a`` of ``a.b[c].d``."""
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return expr if isinstance(expr, ast.Name) else None


def scope_of(subject: ast.AST, bound: set[str], declared: set[str]) -> str:
    """``shared-name`` when the state hangs off a name the function does not bind itself (a
    module global, an imported module, a class, a closure variable) or off ``cls``; else
    ``bound`` (``self.x``, a parameter's or a local's attribute)."""
    name = base_name(subject)
    if name is None:
        return "bound"
    free = name.id in declared or name.id not in bound or name.id == "cls"
    return "shared-name" if free else "bound"


def stores_into(body: list[ast.stmt], container: ast.AST) -> bool:
    key = ast.dump(container)
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Subscript) and ast.dump(t.value) == key for t in targets):
                    return True
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in MUTATORS and ast.dump(node.func.value) == key:
                    return True
    return False


def assigns(body: list[ast.stmt], target: ast.AST) -> bool:
    key = ast.dump(ast.Name(target.id, ast.Store())) if isinstance(target, ast.Name) else None
    if isinstance(target, ast.Attribute):
        key = ast.dump(ast.Attribute(target.value, target.attr, ast.Store()))
    for stmt in body:
        for node in ast.walk(stmt):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            if any(ast.dump(t) == key for t in targets):
                return True
    return False


def lazy_subject(test: ast.expr) -> ast.expr | None:
    """``X`` of ``X is None`` or ``not X``."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is):
        right = test.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None:
            return test.left
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    return None


def shapes_in_function(func: ast.AST) -> list[tuple[str, ast.stmt, str]]:
    globals_, nonlocals = set(), set()
    for node in own_nodes(func):
        if isinstance(node, ast.Global):
            globals_.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            nonlocals.update(node.names)
    declared = globals_ | nonlocals
    bound = bound_names(func)
    found = []

    def add(shape: str, node: ast.stmt, subject: ast.AST) -> None:
        found.append((shape, node, scope_of(subject, bound, declared)))

    for node in own_nodes(func):
        if isinstance(node, ast.AugAssign):
            target = node.target
            if isinstance(target, ast.Name) and target.id in declared:
                add("global_rmw" if target.id in globals_ else "nonlocal_rmw", node, target)
            elif isinstance(target, ast.Attribute):
                add("attr_rmw", node, target)
            elif isinstance(target, ast.Subscript) and shared_looking(target.value, bound, declared):
                add("item_rmw", node, target.value)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            reads = any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.value))
            if name in declared and reads and isinstance(node.value, ast.BinOp):
                add("global_rmw" if name in globals_ else "nonlocal_rmw", node, node.targets[0])
        elif isinstance(node, ast.If):
            test = node.test
            if (
                isinstance(test, ast.Compare)
                and len(test.ops) == 1
                and isinstance(test.ops[0], ast.NotIn)
                and shared_looking(test.comparators[0], bound, declared)
                and stores_into(node.body, test.comparators[0])
            ):
                add("check_then_act", node, test.comparators[0])
            subject = lazy_subject(test)
            if subject is not None and (
                isinstance(subject, ast.Attribute) or (isinstance(subject, ast.Name) and subject.id in globals_)
            ) and assigns(node.body, subject):
                add("lazy_init", node, subject)
    return found


def shapes_in_source(source: str) -> list[tuple[str, int, int, str, bool, str]]:
    """(shape, line, end_line, function name, in async def, scope) for each site of a module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    sites = []
    for func in ast.walk(tree):
        if isinstance(func, FUNCTIONS):
            for shape, node, scope in shapes_in_function(func):
                is_async = isinstance(func, ast.AsyncFunctionDef)
                sites.append((shape, node.lineno, node.end_lineno, func.name, is_async, scope))
    return sorted(set(sites), key=lambda s: (s[1], s[0]))


def find_shapes(library) -> list[dict]:
    """Every shape site in a library's code (``corpus.Library``), as label-ready records."""
    from corpus import excerpt_of, library_files

    records = []
    for path in library_files(library):
        try:
            source = (library.root / path).read_text(encoding="utf-8")
            sites = shapes_in_source(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for shape, line, end_line, function, is_async, scope in sites:
            records.append({
                "library": library.name, "version": library.version, "path": path, "line": line,
                "end_line": end_line, "shape": shape, "rule": SHAPE_RULE[shape], "function": function,
                "async": is_async, "scope": scope, "excerpt": excerpt_of(library.root, path, line),
            })
    return records
