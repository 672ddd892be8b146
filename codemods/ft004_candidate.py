"""FT004's ``candidate()``: check()'s structural conditions on the file's ``ast``, without a
``FileContext`` (it runs on every file that passes the text prefilter, so it is one cheap
pass over the statements).

Each test below is a superset of what check() and ``ft004_state.shared_state`` require;
lock analysis is ignored (a lock only turns a finding into a guarded site, which is a site
too). The shapes themselves (``rmw_target``, the receiver's attribute writes, the
``type(self)`` argument) are ``codemods.ft004_shapes``'s, the detector's own.
"""

from __future__ import annotations

import ast

from codemods.ft004_shapes import (
    CLASS_CREATION, CONSTRUCTORS, ITEM_OR_ATTRIBUTE, attributes_written, item_base, only_argument, rmw_target, same_structure,
)
from ftmigrate.analysis import LOCK_FACTORIES, POOL_METHODS, decorated_method_kind, looks_like_lock_name
from ftmigrate.prefilter import ast_class_aliases, ast_may_say_shared

_LOCAL_READS: dict[int, tuple[ast.AST, dict[str, set[str]]]] = {}


def _local_reads(func: ast.AST) -> dict[str, set[str]]:
    """Locals of ``func`` assigned an item or attribute (``n = self.count``): name -> the
    codes read, for the write-back of a split update (``self.count = n``)."""
    known = _LOCAL_READS.get(id(func))
    if known is not None and known[0] is func:
        return known[1]
    reads: dict[str, set[str]] = {}
    for node in ast.walk(func):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, (ast.Attribute, ast.Subscript))
        ):
            reads.setdefault(node.targets[0].id, set()).add(ast.unparse(node.value))
    _LOCAL_READS[id(func)] = (func, reads)
    return reads


def _read_into(name: ast.expr, target: ast.expr, reads: dict[str, set[str]]) -> bool:
    return isinstance(name, ast.Name) and ast.unparse(target) in reads.get(name.id, ())


def _split_update_target(stmt: ast.stmt, reads: dict[str, set[str]]) -> ast.expr | None:
    """A superset of ``spans.written_back`` for items and attributes: ``o.a = n`` or
    ``o.a = <binary operation with n>`` where the function assigns ``n = o.a`` somewhere
    (``reads``: ``_local_reads`` of the function)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ITEM_OR_ATTRIBUTE)):
        return None
    target, expr = stmt.targets[0], stmt.value
    while isinstance(expr, ast.BinOp):  # the operands, as binop_operands()
        if _read_into(expr.right, target, reads):
            return target
        expr = expr.left
    return target if _read_into(expr, target, reads) else None


def _target_names(target: ast.expr, into: set[str]) -> None:
    """Names an assignment target binds (``_target_names``)."""
    if isinstance(target, ast.Name):
        into.add(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _target_names(element, into)
    elif isinstance(target, ast.Starred):
        _target_names(target.value, into)


class _ClassFacts:
    """What candidate() needs to know of a class (a superset of what check() looks at)."""

    __slots__ = ("lock_calls", "locked", "methods", "node", "writers")

    def __init__(self, node: ast.ClassDef) -> None:
        self.node = node
        self.methods: set[str] = set()  # methods defined directly in its body
        self.locked = False  # a lock attribute (class_lock_attrs), as far as can be told now
        self.lock_calls: set[str] = set()  # `x = Name(...)` that make a lock attribute if Name is a lock factory
        self.writers: dict[str, set[str]] = {}  # attribute -> methods that write self.<attribute> (_attribute_writers)

    def lock_assignment(self, attr: str, value: ast.expr | None) -> None:
        """``attr = value`` (class level) or ``self.attr = value`` (in a method)."""
        if not isinstance(value, ast.Call):
            return
        func = value.func
        if looks_like_lock_name(attr) or (isinstance(func, ast.Attribute) and func.attr in LOCK_FACTORIES) or (
            isinstance(func, ast.Name) and looks_like_lock_name(func.id)  # a project's own lock maker
        ):
            self.locked = True
        elif isinstance(func, ast.Name):
            self.lock_calls.add(func.id)


def _handoffs(tree: ast.Module) -> set[tuple[str, str]]:
    """``(obj, method)`` for each ``obj.method`` that some call may hand to a thread or an
    executor (a superset of ``thread_entry_methods``' candidates)."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        pool = isinstance(func, ast.Attribute) and name in POOL_METHODS
        if not pool and name not in ("Thread", "Timer"):
            continue
        candidates = [k.value for k in node.keywords if k.arg == "target"]
        if pool:
            candidates += node.args[:1]
        elif name == "Timer":
            candidates += node.args[1:2]
        for expr in candidates:
            expr = expr.value if isinstance(expr, ast.Starred) else expr
            if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
                found.add((expr.value.id, expr.attr))
    return found


def is_candidate(tree: ast.Module, shared_classes: frozenset[str]) -> bool:
    """Could check() yield a site in this file? See ``SharedItemAttributeReadModifyWrite.candidate``
    (``shared_classes``: the configuration's ``shared-classes``)."""
    _LOCAL_READS.clear()  # one file's functions at a time: the cache must not keep old trees alive
    try:
        return _candidate_of(tree, shared_classes)
    finally:
        _LOCAL_READS.clear()


def _candidate_of(tree: ast.Module, shared_classes: frozenset[str]) -> bool:
    assigned: set[str] = set()  # names bound at module level by an assignment, `for` or `with`
    imported: set[str] = set()  # names bound at module level by an import
    top_classes: set[str] = set()  # classes defined directly in the module body
    lock_factories: set[str] = set()  # local names of `from threading import Lock`...
    thread_names: set[str] = set()  # local names of `from threading import Thread`
    instances: dict[str, set[str]] = {}  # name -> classes C of `name = C(...)` anywhere
    items: set[str] = set()  # `name[...] op= ...` in a function
    owned: list[tuple[str, bool]] = []  # root name of `a.b.attr op= ...` in a function, and whether it is `a.attr`
    selfs: list[tuple[_ClassFacts, str]] = []  # `self.attr op= ...` in an instance method
    classes: list[_ClassFacts] = []  # every class of the module

    # (statement, function it runs in, class if that function is a method, class whose body
    # holds it directly, at module level, directly in the module body)
    stack: list[tuple] = [(s, None, None, None, True, True) for s in reversed(tree.body)]
    while stack:
        stmt, func, owner_class, class_body, module_level, module_body = stack.pop()
        kind = type(stmt)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            if class_body is not None:
                class_body.methods.add(stmt.name)
            stack.extend((s, stmt, class_body, None, False, False) for s in reversed(stmt.body))
            continue
        if kind is ast.ClassDef:
            facts = _ClassFacts(stmt)
            classes.append(facts)
            if module_body:
                top_classes.add(stmt.name)
            stack.extend((s, None, None, facts, False, False) for s in reversed(stmt.body))
            continue
        if kind is ast.Assign or kind is ast.AugAssign or kind is ast.AnnAssign:
            targets = stmt.targets if kind is ast.Assign else [stmt.target]
            value = stmt.value
            if module_level:
                for target in targets:
                    _target_names(target, assigned)
            if kind is not ast.AugAssign and isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                for target in targets:
                    if isinstance(target, ast.Name):
                        instances.setdefault(target.id, set()).add(value.func.id)
            if class_body is not None:
                for target in targets:
                    if isinstance(target, ast.Name):
                        class_body.lock_assignment(target.id, value)
            if func is None:
                continue
            receiver = None
            if owner_class is not None:
                params = func.args.posonlyargs + func.args.args
                receiver = params[0].arg if params else None
                for target in targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == receiver:
                        owner_class.lock_assignment(target.attr, value)
                if func.name not in CONSTRUCTORS:
                    for attr in attributes_written(stmt, receiver):
                        owner_class.writers.setdefault(attr, set()).add(func.name)
            # The function's reads matter only to a write of an item or attribute (a split
            # update's write-back); finding them walks the whole function, so only then.
            writes_item = kind is ast.Assign and len(targets) == 1 and isinstance(targets[0], ITEM_OR_ATTRIBUTE)
            target = rmw_target(stmt, same_structure) or (_split_update_target(stmt, _local_reads(func)) if writes_item else None)
            if target is None:
                continue
            base = item_base(target)
            if isinstance(base, ast.Name):
                if base is not target:
                    items.add(base.id)
                continue
            if not isinstance(base, ast.Attribute):
                continue
            obj = base.value
            if receiver is not None and func.name not in CLASS_CREATION:
                method_kind = decorated_method_kind(func)
                if isinstance(obj, ast.Name) and method_kind == "instance" and obj.id in ast_class_aliases(func):
                    return True  # cls = type(self); cls.total += 1
                if isinstance(obj, ast.Name) and obj.id == receiver:
                    if method_kind == "class":
                        return True  # cls.total += 1
                    if method_kind == "instance" and func.name not in CONSTRUCTORS:
                        selfs.append((owner_class, base.attr))
                elif method_kind == "instance" and (
                    (isinstance(obj, ast.Attribute) and obj.attr == "__class__" and isinstance(obj.value, ast.Name) and obj.value.id == receiver)
                    or (
                        isinstance(obj, ast.Call)
                        and isinstance(obj.func, ast.Name)
                        and obj.func.id == "type"
                        and isinstance(only_argument(obj), ast.Name)
                        and only_argument(obj).id == receiver
                    )
                ):
                    return True  # type(self).total += 1, self.__class__.total += 1
            if isinstance(obj, ast.Name) and obj.id == func.name:
                return True  # _M.misses += 1 in def _M (_own_function_attribute)
            root = obj
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name):
                owned.append((root.id, root is obj))
            continue
        if kind is ast.Import or kind is ast.ImportFrom:
            if module_level:
                for alias in stmt.names:
                    if alias.name != "*":
                        imported.add(alias.asname or alias.name.split(".")[0])
            if kind is ast.ImportFrom and stmt.module == "threading" and not stmt.level:
                for alias in stmt.names:
                    if alias.name in LOCK_FACTORIES:
                        lock_factories.add(alias.asname or alias.name)
                    elif alias.name == "Thread":
                        thread_names.add(alias.asname or alias.name)
            continue
        if module_level:
            if kind is ast.For or kind is ast.AsyncFor:
                _target_names(stmt.target, assigned)
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in stmt.items:
                    if item.optional_vars is not None:
                        _target_names(item.optional_vars, assigned)
        children: list[ast.stmt] = []
        for block in ("body", "orelse", "finalbody"):
            children.extend(getattr(stmt, block, ()))
        for part in getattr(stmt, "handlers", []) + getattr(stmt, "cases", []):
            children.extend(part.body)
        stack.extend((s, func, owner_class, None, module_level, False) for s in reversed(children))

    if not items.isdisjoint(assigned) or not items.isdisjoint(imported):
        return True  # stats[key] += 1 (_module_item)
    if any(root in imported or (is_name and root in top_classes) for root, is_name in owned):
        return True  # config.retries -= 1, Counter.total += 1 (_module_owned)
    if not selfs:
        return False
    # self.hits += 1 (_instance_attribute): listed in shared_classes, or written by threads at once
    by_name: dict[str, list[_ClassFacts]] = {}
    for facts in classes:
        by_name.setdefault(facts.node.name, []).append(facts)

    def by_design(facts: _ClassFacts, seen: frozenset = frozenset()) -> bool:
        """``shared_by_design``, or more: a lock attribute, a synchronised member or words, a base class of the module's that has them."""
        if facts.locked or not facts.lock_calls.isdisjoint(lock_factories) or ast_may_say_shared(facts.node):
            return True
        bases = [b.id for b in facts.node.bases if isinstance(b, ast.Name) and b.id in top_classes]
        return any(by_design(f, seen | {id(facts)}) for b in bases for f in by_name.get(b, ()) if id(f) not in seen | {id(facts)})

    if any(facts.node.name in shared_classes or by_design(facts) for facts, _ in selfs):
        return True  # (a class shared by design and no thread entry methods)
    handoffs: set[tuple[str, str]] | None = None
    for facts, attr in selfs:
        writers = facts.writers.get(attr, set())
        subclass = any(
            (isinstance(b, ast.Attribute) and b.attr == "Thread" and isinstance(b.value, ast.Name))
            or (isinstance(b, ast.Name) and b.id in thread_names)
            for b in facts.node.bases
        )
        if subclass and "run" in writers and len(writers) >= 2:
            return True  # run() and another method write it
        if handoffs is None:
            handoffs = _handoffs(tree)
        if not handoffs:
            continue
        names = {"self"} | {name for name, classes in instances.items() if facts.node.name in classes}
        if any(obj in names and method in writers for obj, method in handoffs):
            return True  # a method handed to threads writes it
    return False


