"""FT004: unsynchronised read-modify-write of a shared item or attribute."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import (
    CLASS_DECORATORS,
    LOCK_FACTORIES,
    FileContext,
    binop_operands,
    dotted,
    is_thread_subclass,
    iter_function_nodes,
    own_bindings,
    scope_bindings,
    looks_like_lock_name,
    shared_by_design,
    shared_class_reason,
    thread_entry_methods,
)
from ftmigrate.locking import MODULE, Domain
from ftmigrate.prefilter import ast_class_aliases, ast_dotted, ast_may_say_shared
from ftmigrate.rules import Example, Rule, Site
from ftmigrate.spans import written_back

_ITEM_OR_ATTRIBUTE = m.Subscript() | m.Attribute()
_ASSIGN_BINOP = m.Assign(targets=[m.AssignTarget(target=_ITEM_OR_ATTRIBUTE)], value=m.BinaryOperation())

_CONTAINER_TYPES = m.Name("dict") | m.Name("list") | m.Name("set") | m.Name("defaultdict") | m.Name("Counter") | m.Name("OrderedDict")
_BUILTIN_CONTAINER = (
    m.Dict() | m.List() | m.Set() | m.DictComp() | m.ListComp() | m.SetComp()
    | m.Call(func=_CONTAINER_TYPES | m.Attribute(value=m.Name("collections"), attr=_CONTAINER_TYPES))
    | m.BinaryOperation(left=m.List(), operator=m.Multiply())
)

# Methods that run before the object (or class) can have been handed to another thread.
_CLASS_CREATION = frozenset({"__init_subclass__", "__set_name__"})
_CONSTRUCTORS = frozenset({"__init__", "__post_init__", "__new__", "__setstate__"}) | _CLASS_CREATION


def rmw_target(node: cst.CSTNode) -> cst.BaseExpression | None:
    """The item or attribute ``node`` reads, modifies and writes back: ``d[k] += 1``,
    ``o.a = o.a + 1`` or ``d[k] = d.get(k, 0) + 1``."""
    if isinstance(node, cst.AugAssign) and m.matches(node.target, _ITEM_OR_ATTRIBUTE):
        return node.target
    if type(node) is cst.Assign and m.matches(node, _ASSIGN_BINOP):  # the class test first: matchers are slow
        target = node.targets[0].target
        if any(op.deep_equals(target) or _is_get_of(op, target) for op in binop_operands(node.value)):
            return target
    return None


def _is_get_of(expr: cst.BaseExpression, target: cst.BaseExpression) -> bool:
    """``d.get(k, ...)`` for the target ``d[k]``."""
    if not (isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index)):
        return False
    key = target.slice[0].slice.value
    return (
        m.matches(expr, m.Call(func=m.Attribute(attr=m.Name("get"))))
        and expr.func.value.deep_equals(target.value)
        and bool(expr.args)
        and expr.args[0].keyword is None
        and expr.args[0].value.deep_equals(key)
    )


@dataclass(frozen=True)
class SharedState:
    """What a target belongs to, and so where its lock lives."""

    domain: Domain
    state: str  # key of the state within the domain (and the stem of a new lock's name)
    where: str  # for the message
    receiver: str | None = None  # how the code names the object holding a class/instance lock
    anchor: str | None = None  # module-level name after which a new module lock goes
    unfixable: str | None = None  # why no lock is added, for state reported only


def _module_binding(ctx: FileContext, name: cst.Name) -> cst.CSTNode | None:
    """The one kind of module-level statement ``name`` refers to where it is used (an
    ``Import``/``ImportFrom``, ``ClassDef``, or ``Name`` for an assignment), else None."""
    func = ctx.enclosing_function(name)
    if func is None or not ctx.resolves_globally(func, name.value):
        return None
    assignments = ctx.global_bindings.get(name.value, [])
    if not assignments:
        return None
    kinds = {type(node) for node in assignments}
    if kinds <= {cst.Import, cst.ImportFrom}:
        return assignments[0]
    if len(assignments) == 1 and kinds == {cst.ClassDef}:
        return assignments[0]
    return assignments[0] if kinds == {cst.Name} else None


def _rebound(ctx: FileContext, func: cst.FunctionDef) -> set[str]:
    """Names assigned in ``func``'s body: a re-assigned ``self`` no longer names the receiver."""
    return own_bindings(func, params=False) - ctx.declared(func, cst.Global) - ctx.declared(func, cst.Nonlocal)


def _receiver(ctx: FileContext, func: cst.FunctionDef, kind: str) -> str | None:
    """``self`` (kind "instance") or ``cls`` (kind "class") of a method, if not re-assigned."""
    if ctx.method_kind(func) != kind:
        return None
    receiver = ctx.first_param(func)
    return receiver if receiver is not None and receiver not in _rebound(ctx, func) else None


def _module_item(ctx: FileContext, base: cst.Name, module_names: set[str]) -> SharedState | None:
    if base.value in module_names and isinstance(_module_binding(ctx, base), (cst.Name, cst.Import, cst.ImportFrom)):
        return SharedState(MODULE, base.value, f"item of module-level `{base.value}`", anchor=base.value)
    return None


def _own_function_attribute(ctx: FileContext, func: cst.FunctionDef, owner: cst.BaseExpression, attr: str) -> SharedState | None:
    """``_M.misses`` inside ``def _M``: an attribute of the function object itself, one
    object for every call, from any thread (a memoizing wrapper's hit counter). The name
    must mean that function: it is bound only by that ``def`` in the scope that holds it."""
    if not m.matches(owner, m.Name(func.name.value)) or owner.value in ctx.local_bindings(func):
        return None
    scope = next((a for a in ctx.ancestors(func) if isinstance(a, (cst.FunctionDef, cst.ClassDef, cst.Module))), None)
    if isinstance(scope, cst.ClassDef):
        return None  # a method's name is not visible in its own body
    root = scope.body if isinstance(scope, cst.FunctionDef) else scope
    skip = scope if isinstance(scope, cst.FunctionDef) else None
    bindings = [node for name, node in scope_bindings(root, skip=skip) if name == owner.value]
    if bindings != [func] or (isinstance(scope, cst.FunctionDef) and owner.value in ctx.declared(scope, cst.Global)):
        return None
    where = f"attribute of function `{owner.value}`, shared by all its callers"
    why = f"a lock for `{owner.value}`'s own attribute belongs next to `def {owner.value}`; ftmigrate does not add one there"
    return SharedState(MODULE if isinstance(scope, cst.Module) else Domain("closure", scope), f"{owner.value}.{attr}", where, unfixable=why)


def _class_attribute(ctx: FileContext, func: cst.FunctionDef, owner: cst.BaseExpression, attr: str) -> SharedState | None:
    """``cls.total`` in a classmethod, ``type(self).total``, ``self.__class__.total``, and
    ``cls.total`` after ``cls = type(self)``."""
    cls = ctx.method_class(func)
    if func.name.value in _CLASS_CREATION:
        return None
    receiver = ctx.code(owner)
    if m.matches(owner, m.Name()):
        aliases = ctx.class_aliases(func) if cls is not None else {}
        if owner.value in aliases:
            receiver = aliases[owner.value]  # `cls = type(self)`: the lock is `type(self)._x_lock`
        elif cls is None or owner.value != _receiver(ctx, func, "class"):
            return None
    else:
        self_ = _receiver(ctx, func, "instance") if cls is not None else None
        if self_ is None or not m.matches(
            owner, m.Call(func=m.Name("type"), args=[m.Arg(value=m.Name(self_), keyword=None)]) | m.Attribute(value=m.Name(self_), attr=m.Name("__class__"))
        ):
            return None
    return SharedState(Domain("class", cls), attr, f"class attribute of `{cls.name.value}`", receiver=receiver, anchor=attr)


def _module_owned(ctx: FileContext, owner: cst.BaseExpression, attr: str, module_names: set[str]) -> SharedState | None:
    """``Counter.total`` for a top-level class, ``config.retries`` for an imported module."""
    root = owner
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name) or root.value not in module_names:
        return None
    binding = _module_binding(ctx, root)
    if isinstance(binding, cst.ClassDef) and root is owner and binding in ctx.module.body:
        return SharedState(Domain("class", binding), attr, f"class attribute of `{root.value}`", receiver=root.value, anchor=attr)
    if isinstance(binding, (cst.Import, cst.ImportFrom)):
        path = f"{ctx.code(owner)}.{attr}"
        return SharedState(MODULE, path, f"attribute of imported `{ctx.code(owner)}`", anchor=root.value)
    return None


def _instance_attribute(ctx: FileContext, func: cst.FunctionDef, owner: cst.BaseExpression, attr: str) -> SharedState | None:
    """``self.hits`` in a class whose instances are shared between threads."""
    if func.name.value in _CONSTRUCTORS or not m.matches(owner, m.Name()):
        return None
    cls = ctx.method_class(func)
    if cls is None or ctx.method_kind(func) != "instance" or owner.value != ctx.first_param(func):
        return None
    reason = shared_class_reason(ctx, cls)
    if reason is None or _receiver(ctx, func, "instance") is None:
        return None
    if cls.name.value not in ctx.shared_classes and not _written_by_threads_at_once(ctx, cls, attr):
        return None
    where = f"attribute of `{cls.name.value}` instances, which are shared between threads: {reason}"
    return SharedState(Domain("instance", cls), attr, where, receiver=owner.value)


def _written_by_threads_at_once(ctx: FileContext, cls: cst.ClassDef, attr: str) -> bool:
    """Can two threads write ``self.attr`` at once? For a class that runs methods in
    threads: yes if a method that writes it is run by several threads (a pool, threads
    started in a loop), or if both a thread's entry method (``run``, a ``Thread`` target)
    and another method write it; a counter only its own thread's ``run()`` updates is not
    shared (even once the class has a lock, which keeps ``apply`` idempotent). For a class
    whose instances are only shared by design (``shared_by_design``: a thread lock
    attribute, a thread-safe queue, its documentation): yes, its methods may be called
    from any thread."""
    entries = thread_entry_methods(ctx, cls)
    if is_thread_subclass(ctx, cls):
        entries.setdefault("run", False)
    if not entries:
        return shared_by_design(ctx, cls) is not None
    writers = _attribute_writers(ctx, cls).get(attr, set())
    return any(entries.get(w) for w in writers) or (len(writers) >= 2 and any(w in entries for w in writers))


def _attribute_writers(ctx: FileContext, cls: cst.ClassDef) -> dict[str, set[str]]:
    """Attribute name -> the methods (not constructors) that assign ``self.<attr>`` or an item of it."""
    cache = ctx.rule_cache.setdefault("FT004.writers", {})
    if cls in cache:
        return cache[cls]
    writers: dict[str, set[str]] = {}
    for method in (s for s in cls.body.body if isinstance(s, cst.FunctionDef)) if isinstance(cls.body, cst.IndentedBlock) else ():
        receiver = ctx.first_param(method)
        if method.name.value in _CONSTRUCTORS or ctx.method_kind(method) != "instance" or receiver is None:
            continue
        for node in iter_function_nodes(method):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target] if isinstance(node, (cst.AugAssign, cst.AnnAssign)) else []
            for target in targets:
                while isinstance(target, cst.Subscript):
                    target = target.value
                if m.matches(target, m.Attribute(value=m.Name(receiver))):
                    writers.setdefault(target.attr.value, set()).add(method.name.value)
    cache[cls] = writers
    return writers


def shared_state(ctx: FileContext, func: cst.FunctionDef, target: cst.BaseExpression, module_names: set[str]) -> SharedState | None:
    """The shared state ``target`` (an item or attribute written in ``func``) belongs to, or
    None when nothing says it is shared between threads. ``module_names``: names bound at
    module level (checked first: resolving scopes is costly)."""
    base = target
    while isinstance(base, cst.Subscript):
        base = base.value
    if isinstance(base, cst.Name):
        # A bare name is FT001's; a local container is not shared.
        return _module_item(ctx, base, module_names) if base is not target else None
    if not isinstance(base, cst.Attribute):
        return None
    owner, attr = base.value, base.attr.value
    return (
        _own_function_attribute(ctx, func, owner, attr)
        or _class_attribute(ctx, func, owner, attr)
        or _instance_attribute(ctx, func, owner, attr)
        or _module_owned(ctx, owner, attr, module_names)
    )


# --- candidate(): check()'s structural conditions, on the standard library's ``ast`` ----
# Each test below is a superset of what check() and shared_state() require; lock analysis
# is ignored (a lock only turns a finding into a guarded site, which is a site too).

_AST_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_AST_BINDS = (ast.Assign, ast.AugAssign, ast.AnnAssign)
_AST_CLASS_KIND = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
_AST_POOL_CALLS = frozenset({"submit", "map", "apply_async", "map_async", "imap", "imap_unordered", "start_new_thread"})


def _same_code(a: object, b: object) -> bool:
    """Same expression, load/store context aside (LibCST's ``deep_equals`` is stricter)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, ast.AST):
        return all(_same_code(getattr(a, f, None), getattr(b, f, None)) for f in a._fields if f != "ctx")
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same_code, a, b))
    return a == b


def _only_argument(call: ast.Call) -> ast.expr | None:
    """The one argument of ``call`` (``*x``/``**x`` unwrapped), if it has exactly one
    that is not ``name=value``."""
    if len(call.args) + len(call.keywords) != 1:
        return None
    if call.args:
        arg = call.args[0]
        return arg.value if isinstance(arg, ast.Starred) else arg
    return call.keywords[0].value if call.keywords[0].arg is None else None


def _ast_is_get_of(expr: ast.expr, target: ast.expr) -> bool:
    """``_is_get_of`` on ``ast``: ``d.get(k, ...)`` for the target ``d[k]``."""
    if not isinstance(target, ast.Subscript) or isinstance(target.slice, ast.Slice):
        return False
    if not (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and _same_code(expr.func.value, target.value)
    ):
        return False
    if expr.args:  # the first argument in source order, if not `name=value`
        first = expr.args[0]
        first = first.value if isinstance(first, ast.Starred) else first
    elif expr.keywords and expr.keywords[0].arg is None:
        first = expr.keywords[0].value
    else:
        return False
    return _same_code(first, target.slice)


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


def _ast_rmw_target(stmt: ast.stmt, reads: dict[str, set[str]] | None = None) -> ast.expr | None:
    """``rmw_target`` on ``ast`` (a superset: parentheses and quotes are not compared);
    ``reads``: ``_local_reads`` of the function, for split updates."""
    reads = reads or {}
    if isinstance(stmt, ast.AugAssign):
        return stmt.target if isinstance(stmt.target, (ast.Attribute, ast.Subscript)) else None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Name):
        target = stmt.targets[0]  # perhaps the write-back of a split update (spans.written_back)
        ok = isinstance(target, (ast.Attribute, ast.Subscript)) and _read_into(stmt.value, target, reads)
        return target if ok else None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp):
        target = stmt.targets[0]
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            expr = stmt.value
            while True:  # the operands, as binop_operands()
                operand = expr.right if isinstance(expr, ast.BinOp) else expr
                # A local may hold the target's value read just before (a split update).
                if _same_code(operand, target) or _ast_is_get_of(operand, target) or _read_into(operand, target, reads):
                    return target
                if not isinstance(expr, ast.BinOp):
                    return None
                expr = expr.left
    return None


def _ast_target_names(target: ast.expr, into: set[str]) -> None:
    """Names an assignment target binds (``_target_names``)."""
    if isinstance(target, ast.Name):
        into.add(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _ast_target_names(element, into)
    elif isinstance(target, ast.Starred):
        _ast_target_names(target.value, into)


def _ast_method_kind(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``FileContext.method_kind`` for a method."""
    names = {(ast_dotted(d) or "").rsplit(".", 1)[-1] for d in func.decorator_list}
    if "staticmethod" in names:
        return "static"
    return "class" if names & CLASS_DECORATORS or func.name in _AST_CLASS_KIND else "instance"


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
        pool = isinstance(func, ast.Attribute) and name in _AST_POOL_CALLS
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


def _ast_candidate(tree: ast.Module, shared_classes: frozenset[str]) -> bool:
    """Could check() yield a site in this file? See ``SharedItemAttributeReadModifyWrite.candidate``."""
    _LOCAL_READS.clear()  # one file's functions at a time: the cache must not keep old trees alive
    try:
        return _ast_candidate_of(tree, shared_classes)
    finally:
        _LOCAL_READS.clear()


def _ast_candidate_of(tree: ast.Module, shared_classes: frozenset[str]) -> bool:
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
                    _ast_target_names(target, assigned)
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
                    while isinstance(target, ast.Subscript):
                        target = target.value
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == receiver
                        and func.name not in _CONSTRUCTORS
                    ):
                        owner_class.writers.setdefault(target.attr, set()).add(func.name)
            # The function's reads matter only to a write of an item or attribute (a split
            # update's write-back); finding them walks the whole function, so only then.
            writes_item = kind is ast.Assign and len(targets) == 1 and isinstance(targets[0], (ast.Attribute, ast.Subscript))
            target = _ast_rmw_target(stmt, _local_reads(func) if writes_item else None)
            if target is None:
                continue
            base = target
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                if base is not target:
                    items.add(base.id)
                continue
            if not isinstance(base, ast.Attribute):
                continue
            obj = base.value
            if receiver is not None and func.name not in _CLASS_CREATION:
                method_kind = _ast_method_kind(func)
                if isinstance(obj, ast.Name) and method_kind == "instance" and obj.id in ast_class_aliases(func):
                    return True  # cls = type(self); cls.total += 1
                if isinstance(obj, ast.Name) and obj.id == receiver:
                    if method_kind == "class":
                        return True  # cls.total += 1
                    if method_kind == "instance" and func.name not in _CONSTRUCTORS:
                        selfs.append((owner_class, base.attr))
                elif method_kind == "instance" and (
                    (isinstance(obj, ast.Attribute) and obj.attr == "__class__" and isinstance(obj.value, ast.Name) and obj.value.id == receiver)
                    or (
                        isinstance(obj, ast.Call)
                        and isinstance(obj.func, ast.Name)
                        and obj.func.id == "type"
                        and isinstance(_only_argument(obj), ast.Name)
                        and _only_argument(obj).id == receiver
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
                _ast_target_names(stmt.target, assigned)
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in stmt.items:
                    if item.optional_vars is not None:
                        _ast_target_names(item.optional_vars, assigned)
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


class SharedItemAttributeReadModifyWrite(Rule):
    """
    ## What it does
    Finds read-modify-writes of shared items and attributes inside functions: an augmented
    assignment (`stats[key] += 1`, `self.hits += 1`), `x.a = x.a + 1`, or
    `d[k] = d.get(k, 0) + 1`, whose target is
    - an item of a module-level container: `stats[key] += 1`, `shared_data["count"] += 1`;
    - a class attribute: `cls.total += 1`, `Counter.total += 1`, `type(self).total += 1`,
      `cls.total += 1` after `cls = type(self)`, in a `@classproperty` too;
    - an attribute of the function object itself (`_M.misses += 1` inside `def _M`: one
      object for every caller), reported without a fix;
    - an attribute of an imported module: `config.retries -= 1`;
    - an attribute of `self` in a class whose instances are shared between threads: the
      class is listed in the configuration, or its instances have a thread lock attribute
      (`self._lock = threading.Lock()` in a method; a class-level lock does not count); or it subclasses `threading.Thread`, or one of its
      methods is handed to threads in the same module (`Thread(target=obj.run)`,
      `executor.submit(obj.step)`, `executor.map(obj.f, ...)`), and two threads can write
      the attribute at once: a method that writes it is run by several threads (an
      executor, threads started in a loop), or both the thread's entry method (`run`, the
      `target`) and another method write it. A counter that only a thread's own `run()`
      updates is not shared, with or without a lock attribute. The other evidence of
      `ftmigrate.analysis.shared_by_design` counts as a lock attribute does: a lock made by
      the project's own wrapper, a `queue.Queue`-family queue, documentation that says the
      class is thread-safe, a shared base class.

    An update held by another lock than the one most updates of the same state hold
    (`with self._read_lock: self.n -= 1` where the others hold `self._state_lock`) is
    reported too, without a fix: the two locks do not exclude each other. A `Condition`
    built on a lock holds that lock.

    Instance attributes of other classes are not reported: most objects belong to one
    thread. To opt a class in, list it in the configuration:
    ```toml
    [tool.ftmigrate]
    shared-classes = ["Cache", "Metrics"]
    ```
    Instance attributes in constructors (`__init__`, `__new__`, `__post_init__`) and class
    attributes in `__init_subclass__`/`__set_name__` are not reported: the object or class
    is not shared yet. Code already under a lock is not reported; see the
    `ftmigrate.analysis` module documentation for what counts as a lock (`with`,
    `acquire()`/`release()`, `Condition`, `Semaphore`, imported locks, `@synchronized`-style
    decorators, a private helper whose every caller holds the lock).

    ## Why is this bad under free-threading?
    `stats[key] += 1` is a load of the item, an add and a store. Without the GIL two
    threads run these at the same time, both read 50 and both store 51: an update is lost.
    On free-threaded CPython 3.13t, four threads incrementing one dict item 100,000 times
    each end far below 400,000. The same holds for attributes of shared objects, classes
    and modules.

    ## Example
    ```python
    stats = {"requests": 0}

    def handle():
        stats["requests"] += 1
    ```

    ## Use instead
    ```python
    import threading

    stats = {"requests": 0}
    _stats_lock = threading.Lock()

    def handle():
        with _stats_lock:
            stats["requests"] += 1
    ```

    ## Fix safety
    Safe (`ftmigrate apply`): a dedicated new lock, or a proven `threading` lock that
    already guards the state elsewhere (`ftmigrate.threadlocks`), around an
    update that calls nothing but builtins and the container's own methods
    (`stats[key] += 1`, `d[k] = d.get(k, 0) + 1`, `cls.total += 1`).

    Unsafe (only with `--unsafe-fixes`): the update calls other code
    (`self.total += item.price()`): it runs with the lock held, serialised, and an override
    or callback that blocks, takes another lock or comes back from another thread can
    deadlock (a new lock is then an `RLock`). Also unsafe: per-instance state (`self.hits`)
    guarded by one lock for the whole class (a new class-level lock attribute, or the
    class's class-level lock): every instance now waits for every other.

    The whole update is locked: the adjacent statements that read the state for it
    (`n = self.count; n += 1; self.count = n`, `before = self.count` right before
    `self.count += 1`) join the critical section; never the loop around it. Module
    containers and module attributes get a module-level lock after the container's
    assignment (after the imports for imported modules); class and instance state get a new
    class-level lock attribute named for the class or the state (`_hits_lock`): one lock for
    all instances, correct but coarser than a lock per instance. When something other than
    a proven `threading` lock already guards the state elsewhere, the finding is not fixed.
    State updated in the same function
    shares one lock (also across rules), so no function takes two inserted locks. An
    existing non-reentrant lock is not held across a call to a method that takes it. A
    statement that `await`s or `yield`s is not fixed. When several modules update the same
    imported module attribute, each gets its own lock; move the update behind one lock in
    the module that owns the state.
    """

    code = "FT004"
    name = "shared-item-attribute-read-modify-write"
    summary = "read-modify-write of a shared item or attribute without a lock"
    # Every augmented assignment and binary operation contains one of these.
    tokens = ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "@")

    VALID = [
        "def f(k):\n    stats = {}\n    stats[k] += 1\n",
        "class Point:\n    def move(self, dx):\n        self.x += dx\n",
        "import threading\nlocal = threading.local()\n\ndef f():\n    local.counter += 1\n",
        "import threading\n\nclass Cache:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
        "        self.hits = 0\n        self.hits += 1\n",
        "stats = {}\nstats['x'] += 1\n",
        "import threading\nstats = {}\nlock = threading.Lock()\n\ndef f(k):\n    with lock:\n        stats[k] += 1\n",
        "stats = {}\n\ndef f(k):\n    stats[k] += 1  # ftmigrate: ignore[FT004]\n",
        "import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        self.done += 1\n",
        "import threading\nstats = {}\nlock = threading.Lock()\n\ndef _bump(k):\n    stats[k] += 1\n\n"
        "def hit(k):\n    with lock:\n        _bump(k)\n",
    ]
    INVALID = [
        Example(
            "stats = {}\n\ndef f(k):\n    stats[k] += 1\n",
            "import threading\n\nstats = {}\n_stats_lock = threading.Lock()\n\ndef f(k):\n    with _stats_lock:\n        stats[k] += 1\n",
        ),
        Example(
            "class Counter:\n    total = 0\n\n    @classmethod\n    def add(cls):\n        cls.total = cls.total + 1\n",
            "import threading\n\nclass Counter:\n    total = 0\n    _total_lock = threading.Lock()\n\n"
            "    @classmethod\n    def add(cls):\n        with cls._total_lock:\n            cls.total = cls.total + 1\n",
        ),
        Example(
            "import threading\n\nclass Cache:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
            "        self.hits = 0\n\n    def get(self, k):\n        self.hits += 1\n\n"
            "    def reset(self):\n        with self._lock:\n            self.hits = 0\n",
            "import threading\n\nclass Cache:\n    def __init__(self):\n        self._lock = threading.Lock()\n"
            "        self.hits = 0\n\n    def get(self, k):\n        with self._lock:\n            self.hits += 1\n\n"
            "    def reset(self):\n        with self._lock:\n            self.hits = 0\n",
        ),
        Example("stats = {}\n\nasync def f(k, src):\n    stats[k] += await src.count()\n", None),
    ]

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """Some function read-modify-writes (``rmw_target``'s shapes) an item of a name bound
        at module level by an assignment or import; an attribute of ``cls`` in a classmethod,
        of ``type(self)``/``self.__class__``; an attribute of an imported module or of a
        top-level class; or ``self.<attr>`` in an instance method (not a constructor) of a
        class that is in ``shared_classes``, may have a lock attribute, or whose methods
        handed to threads (or ``run`` of a ``Thread`` subclass plus another method) write
        ``<attr>``."""
        return _ast_candidate(tree, shared_classes)

    @staticmethod
    def _builtin_containers(ctx: FileContext) -> set[str]:
        """Names only ever bound to a dict/list/set (so ``counts.get(k, 0)`` runs no user code)."""
        kinds: dict[str, bool] = {}
        for target, value in ctx.assignments:
            if isinstance(target, cst.Name):
                kinds[target.value] = kinds.get(target.value, True) and m.matches(value, _BUILTIN_CONTAINER)
        return {name for name, builtin in kinds.items() if builtin}

    def check(self, ctx: FileContext) -> Iterator[Site]:
        module_names = ctx.module_bindings()
        containers = self._builtin_containers(ctx)
        updates: list[tuple[cst.FunctionDef, cst.CSTNode, cst.BaseExpression, SharedState]] = []
        for func in ctx.find(cst.FunctionDef):
            for node in iter_function_nodes(func):
                target = rmw_target(node) or written_back(ctx, node, (cst.Attribute, cst.Subscript))  # self.n = n after n = self.n
                if target is None:
                    continue
                shared = shared_state(ctx, func, target, module_names)
                if shared is not None:
                    updates.append((func, node, target, shared))
        held = _locks_by_state(ctx, [(node, shared) for _, node, _, shared in updates])
        underlying = _underlying_locks(ctx) if held else {}
        for func, node, target, shared in updates:
            subject = f"`{ctx.code(target)}` ({shared.where})"
            other = _other_lock(held, node, shared, underlying)
            if other is not None:
                mine = " and ".join(f"`{code}`" for code in held[_state_key(shared)][node])
                message = (
                    f"{subject} is read, modified and written under {mine}, but other updates of it hold `{other}`: "
                    "the locks do not exclude each other, and concurrent threads lose updates"
                )
                reason = f"hold the lock the other updates hold (`{other}`) here; ftmigrate does not change which lock guards code"
                yield self.site(node, message, domain=shared.domain, unfixable_reason=reason)
                continue
            if shared.unfixable is not None:
                message = f"{subject} is read, modified and written without a lock; concurrent threads lose updates"
                yield self.site(node, message, domain=shared.domain, guarded_by=ctx.guard_of(node), unfixable_reason=shared.unfixable)
                continue
            safe = frozenset({shared.state} & containers if shared.domain == MODULE else ())
            yield self.read_modify_write_site(
                ctx,
                node,
                subject,
                m.MatchIfTrue(target.deep_equals),
                safe,
                state=shared.state,
                domain=shared.domain,
                function=func,
                receiver=shared.receiver,
                anchor=shared.anchor,
            )


def _state_key(shared: SharedState) -> tuple:
    return (shared.domain.kind, id(shared.domain.owner), shared.state)


def _locks_by_state(ctx: FileContext, updates: list[tuple[cst.CSTNode, SharedState]]) -> dict[tuple, dict[cst.CSTNode, list[str]]]:
    """State -> {update: the codes of the locks held there}, for updates held only by locks
    the code names (``with self._lock:``, ``L.acquire()``); an update under a lock that
    cannot be named (a decorator, a release helper) is left out."""
    found: dict[tuple, dict[cst.CSTNode, list[str]]] = {}
    for node, shared in updates:
        refs = list(ctx.locks_held_at(node))
        if refs and all(ref.code for ref in refs):
            found.setdefault(_state_key(shared), {})[node] = [ref.code for ref in refs]
    return found


def _underlying_locks(ctx: FileContext) -> dict[str, str]:
    """Last name of a ``Condition`` -> last name of the lock it was built on
    (``self.size_cond = threading.Condition(self.lock)``): holding one holds the other."""
    found: dict[str, str] = {}
    for target, value in ctx.assignments:
        if isinstance(value, cst.Call) and ctx.lock_kind(value) == "Condition" and isinstance(target, (cst.Name, cst.Attribute)):
            arg = next((a.value for a in value.args if a.keyword is None or a.keyword.value == "lock"), None)
            lock = dotted(arg) if arg is not None else None
            if lock is not None:
                found[ctx.code(target).rsplit(".", 1)[-1]] = lock.rsplit(".", 1)[-1]
    return found


def _lock_name(code: str, underlying: dict[str, str]) -> str:
    """The last name of the lock ``code`` holds: ``self._lock`` -> ``_lock``, a Condition's own lock."""
    name = code.rsplit(".", 1)[-1]
    for _ in range(len(underlying)):
        if name not in underlying:
            break
        name = underlying[name]
    return name


def _other_lock(
    held: dict[tuple, dict[cst.CSTNode, list[str]]], node: cst.CSTNode, shared: SharedState, underlying: dict[str, str]
) -> str | None:
    """The lock that guards the other updates of the same state when ``node`` holds
    another one, else None. Locks compare by last name (``cls._lock`` is ``Owner._lock``),
    a ``Condition`` as the lock it was built on (``_underlying_locks``);
    the state's lock is the one most of its updates hold (on a tie, the first update's):
    the updates that hold it are consistent, the others are reported."""
    updates = held.get(_state_key(shared), {})
    if node not in updates or len(updates) < 2:
        return None
    names = {other: [_lock_name(code, underlying) for code in codes] for other, codes in updates.items()}
    counts: dict[str, int] = {}
    for codes in names.values():
        for name in dict.fromkeys(codes):
            counts[name] = counts.get(name, 0) + 1
    usual = max(counts, key=counts.get)  # dicts keep the first update's locks first: a tie goes to them
    if usual in names[node]:
        return None
    return next(code for codes in updates.values() for code in codes if _lock_name(code, underlying) == usual)
