"""Project-wide thread evidence: which functions of the project threads run.

A run indexes every file it checks once, with the standard library's ``ast`` (cached per
file content, like results): the functions each module defines, what it imports, the
calls each function makes, and the callables it hands to threads. Then, across modules:

- entry points: callables handed to ``threading.Thread(target=...)``, ``Timer``,
  ``executor.submit/map``, ``pool.apply_async/imap...``, ``_thread.start_new_thread``,
  ``asyncio.to_thread``, ``loop.run_in_executor``; the ``run`` method of every
  ``threading.Thread`` subclass; ``handle``/``do_*`` methods of request-handler classes
  (``socketserver``/``http.server``), which threading servers run one thread per request;
- every function an entry point calls, directly or through other functions, resolved
  through imports (``from .stats import record``, ``import pkg.stats as s``), module-level
  functions, ``self.method()``/``cls.method()`` and ``Class.method()``.

``thread_evidence`` maps each file to ``{qualified name: why}`` for its functions that
threads reach; ``ftmigrate.confidence`` grades findings in them ``high``. What cannot be
resolved statically (calls through variables, ``getattr``, callbacks registered elsewhere)
adds nothing: the evidence only ever raises a finding's confidence, never lowers it.
"""

from __future__ import annotations

import ast
import os
import warnings
from collections import deque
from pathlib import Path, PurePath
from typing import Iterable

from ftmigrate.bindings import dotted
from ftmigrate.lockmakers import ast_lock_makers, resolve_lock_makers

# Calls whose callable argument runs in another thread: method or function name -> index of
# the positional argument (``target=`` always counts too).
_HANDOFF_ARG = {
    "Thread": 1, "Timer": 1, "submit": 0, "map": 0, "apply_async": 0, "map_async": 0, "imap": 0,
    "imap_unordered": 0, "starmap": 0, "start_new_thread": 0, "start_new": 0, "to_thread": 0,
    "run_in_executor": 1,
}
# Names too common to mean a thread pool unless called as a method (``pool.map``, not ``map``).
_METHOD_ONLY = frozenset({"map", "imap", "imap_unordered", "starmap", "submit", "apply_async", "map_async", "run_in_executor"})
_HANDLER_BASES = ("BaseRequestHandler", "StreamRequestHandler", "DatagramRequestHandler", "BaseHTTPRequestHandler", "SimpleHTTPRequestHandler")


def module_name(path: Path) -> str:
    """``pkg.sub.mod`` for ``.../pkg/sub/mod.py`` (packages are folders with ``__init__.py``)."""
    path = Path(os.path.abspath(path))
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or path.stem


def is_test_path(path: PurePath | None) -> bool:
    """Test code: a ``test_*.py``/``*_test.py`` file, ``conftest.py`` or a file in a
    ``test``/``tests``/``testing`` folder."""
    if path is None:
        return False
    path = PurePath(path)
    name = path.name
    return (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        or any(part in ("test", "tests", "testing") for part in path.parts[:-1])
    )


class _Collector(ast.NodeVisitor):
    """One module's facts: plain data, so that they can be cached as JSON."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module, self.is_package = module, is_package
        self.functions: list[str] = []
        self.imports: dict[str, str] = {}
        self.calls: dict[str, list[str]] = {}
        self.entries: list[list[str]] = []  # [enclosing qualname, handed reference]
        self.instances: dict[str, str] = {}  # module-level name -> class reference
        # [enclosing qualname, reference, how] for every use of a private name (``_f``,
        # ``mod._f``, ``self._f``): how is "call", "decorator" or "factory" (``@_f(...)``,
        # ``_f(X)(fn)``) in code that runs at import time (module level, class bodies), else "runtime".
        self.refs: list[list[str]] = []
        self.lock_makers: dict[str, str] = {}  # top-level name -> why it makes a thread lock (ftmigrate.lockmakers)
        self._stack: list[tuple[str, str]] = []  # ("class"|"def", name)
        self._called: set[int] = set()
        self._lambdas = 0  # inside a lambda's body: runs when called, not when defined
        self._how: dict[int, str] = {}

    def facts(self) -> dict:
        return {
            "module": self.module, "functions": self.functions, "imports": self.imports,
            "calls": self.calls, "entries": self.entries, "instances": self.instances, "refs": self.refs,
            "lock_makers": self.lock_makers,
        }

    def _qualname(self) -> str:
        return ".".join(name for _, name in self._stack)

    def _class(self) -> str | None:
        classes = [i for i, (kind, _) in enumerate(self._stack) if kind == "class"]
        return ".".join(n for _, n in self._stack[: classes[-1] + 1]) if classes else None

    def _absolute(self, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        base = self.module.split(".")
        base = base if self.is_package else base[:-1]
        base = base[: len(base) - (level - 1)] if level > 1 else base
        return ".".join([*base, *([module] if module else [])])

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.imports[alias.asname] = alias.name
            else:
                head = alias.name.split(".")[0]
                self.imports[head] = head

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = self._absolute(node.module, node.level)
        for alias in node.names:
            if alias.name != "*":
                self.imports[alias.asname or alias.name] = f"{source}.{alias.name}" if source else alias.name

    def _outside(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        """What a ``def`` or ``class`` statement evaluates in the enclosing scope: its
        decorators, bases and keywords, default values."""
        for decorator in node.decorator_list:
            self._how[id(decorator)] = "decorator"
            if isinstance(decorator, ast.Call):
                self._how[id(decorator.func)] = "factory"
            self.visit(decorator)
        if isinstance(node, ast.ClassDef):
            for expr in (*node.bases, *node.keywords):
                self.visit(expr)
        else:
            for default in (*node.args.defaults, *node.args.kw_defaults):
                if default is not None:
                    self.visit(default)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [(dotted(b) or "").rsplit(".", 1)[-1] for b in node.bases]
        self._outside(node)
        self._stack.append(("class", node.name))
        qual = self._qualname()
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if "Thread" in bases and stmt.name == "run":
                    self.entries.append(["", f"{qual}.run", "the run() of a threading.Thread subclass"])
                if any(b in _HANDLER_BASES for b in bases) and (stmt.name == "handle" or stmt.name.startswith("do_")):
                    self.entries.append(["", f"{qual}.{stmt.name}", "a request handler that threading servers run per request"])
        for stmt in node.body:
            self.visit(stmt)
        self._stack.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._outside(node)
        self._stack.append(("def", node.name))
        self.functions.append(self._qualname())
        for stmt in node.body:
            self.visit(stmt)
        self._stack.pop()

    def _reference(self, node: ast.Name | ast.Attribute) -> None:
        ref = dotted(node)
        if ref is None:
            return
        name = ref.rsplit(".", 1)[-1]
        if name.startswith("_") and not name.endswith("__"):
            at_import = not self._lambdas and all(kind == "class" for kind, _ in self._stack)
            how = self._how.get(id(node)) or ("call" if id(node) in self._called else "runtime")
            self.refs.append([self._qualname(), ref, how if at_import else "runtime"])

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        self._lambdas += 1
        self.visit(node.body)
        self._lambdas -= 1

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._reference(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load):
            self._reference(node)
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Assign(self, node: ast.Assign) -> None:
        if not self._stack and isinstance(node.value, ast.Call):
            cls = dotted(node.value.func)
            for target in node.targets:
                if isinstance(target, ast.Name) and cls:
                    self.instances[target.id] = cls
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self._called.add(id(node.func))
        if isinstance(node.func, ast.Call):  # `_inspects(X)(fn)`: a decorator applied by hand
            self._how[id(node.func.func)] = "factory"
        caller = self._qualname()
        callee = dotted(node.func)
        if callee is not None:
            self.calls.setdefault(caller, []).append(callee)
            name = callee.rsplit(".", 1)[-1]
            if name in _HANDOFF_ARG and ("." in callee or name not in _METHOD_ONLY):
                handed = [k.value for k in node.keywords if k.arg == "target"]
                index = _HANDOFF_ARG[name]
                handed += node.args[index : index + 1] if not any(isinstance(a, ast.Starred) for a in node.args) else []
                for value in handed:
                    refs = [dotted(value)] if not isinstance(value, ast.Lambda) else [
                        dotted(c.func) for c in ast.walk(value.body) if isinstance(c, ast.Call)
                    ]
                    for ref in refs:
                        if ref:
                            self.entries.append([caller, ref, f"handed to `{callee}()`"])
        self.generic_visit(node)


def file_facts(path: Path, text: str) -> dict:
    """The index facts of one file (empty when it does not parse: the file's own check reports why)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    return tree_facts(path, tree)


def tree_facts(path: Path, tree: ast.Module | None) -> dict:
    """The index facts of a file's parsed ``tree`` (None: it does not parse)."""
    collector = _Collector(module_name(path), Path(path).stem == "__init__")
    if tree is not None:
        try:
            collector.visit(tree)
            collector.lock_makers = ast_lock_makers(tree)
        except RecursionError:
            pass
    return collector.facts()


_MAX_REEXPORTS = 16  # a chain of re-exports longer than this is a cycle (a imports x from b, b from a)


class ProjectIndex:
    """Facts of every file of a run, and the functions threads reach across them."""

    def __init__(self, facts: Iterable[tuple[str, dict]]) -> None:
        self.by_path = dict(facts)
        self.by_module = {f["module"]: f for f in self.by_path.values()}
        self.path_of = {f["module"]: p for p, f in self.by_path.items()}

    def resolve(self, facts: dict, ref: str, caller: str, hops: int = 0) -> tuple[str, str] | None:
        """(module, qualified name) of the function ``ref`` means in ``caller`` of ``facts``'s module
        (``hops``: re-exports followed so far; modules that re-export from each other end the chase)."""
        if hops > _MAX_REEXPORTS:
            return None
        module, functions = facts["module"], facts["functions"]
        head, _, rest = ref.partition(".")
        scope = caller.split(".")
        # Names visible from the caller: its own nested functions, then its enclosing scopes'.
        for depth in range(len(scope), -1, -1):
            candidate = ".".join([*scope[:depth], ref])
            if candidate in functions:
                return module, candidate
        if head in ("self", "cls") and rest and "." not in rest:
            for depth in range(len(scope) - 1, 0, -1):  # the method's class and its outer classes
                candidate = ".".join([*scope[:depth], rest])
                if candidate in functions:
                    return module, candidate
        if head in facts["instances"] and rest:
            return self.resolve(facts, f"{facts['instances'][head]}.{rest}", "", hops + 1)
        if head in facts["imports"]:
            return self._external(facts["imports"][head] + (f".{rest}" if rest else ""), hops)
        return None

    def _external(self, dotted: str, hops: int = 0) -> tuple[str, str] | None:
        """(module, qualified name) of an absolute dotted reference to a project function."""
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            facts = self.by_module.get(module)
            if facts is not None:
                qual = ".".join(parts[cut:])
                if qual in facts["functions"]:
                    return module, qual
                if qual.split(".")[0] in facts["imports"] and len(parts[cut:]) <= 2:  # a re-export
                    return self.resolve(facts, qual, "", hops + 1)
                return None
        return None

    def reached(self) -> dict[str, dict[str, str]]:
        """Path -> {qualified name: why threads run it}, for every function threads reach."""
        found: dict[tuple[str, str], str] = {}
        queue: deque[tuple[str, str]] = deque()
        for facts in self.by_path.values():
            for caller, ref, how in facts["entries"]:
                target = self.resolve(facts, ref, caller)
                if target is not None and target not in found:
                    where = f"{facts['module']}.{caller}()" if caller else facts["module"]
                    found[target] = f"`{target[1]}()` is {how} in {where}"
                    queue.append(target)
        while queue:
            module, qual = queue.popleft()
            facts = self.by_module[module]
            for ref in facts["calls"].get(qual, ()):
                target = self.resolve(facts, ref, qual)
                if target is not None and target not in found:
                    found[target] = f"called from `{module}.{qual}()`, which threads run"
                    queue.append(target)
        return self._by_path(found)

    def _by_path(self, found: dict[tuple[str, str], str]) -> dict[str, dict[str, str]]:
        evidence: dict[str, dict[str, str]] = {}
        for (module, qual), why in found.items():
            evidence.setdefault(self.path_of[module], {})[qual] = why
        return evidence

    def evidence(self) -> dict[str, dict[str, dict[str, str]]]:
        """What the project says about each file, keyed by absolute path: ``{"threads":
        {function: why threads run it}, "import_time": {private function: how only
        import-time code calls it}, "lock_makers": {local name: why it makes a thread lock}}``
        (files with none of these are left out)."""
        kinds = {"threads": self.reached(), "import_time": self.import_time(), "lock_makers": resolve_lock_makers(self.by_path)}
        paths = set().union(*(found.keys() for found in kinds.values()))
        return {path: {kind: found.get(path, {}) for kind, found in kinds.items()} for path in paths}

    def import_time(self) -> dict[str, dict[str, str]]:
        """Path -> {qualified name: how}, for private functions (``_name``) that the project
        only ever calls from code that runs when modules are imported: module-level or
        class-body calls, decorators. How: ``"call"`` (called, or used as ``@_f``) or
        ``"factory"`` (only ever as ``@_f(...)``: what it returns decorates at once). A private
        name used any other way (kept as a value, called inside a function) anywhere, even
        where it cannot be resolved, rules it out; uses in test code do not (a test runner
        runs tests one at a time)."""
        uses: dict[tuple[str, str], set[str]] = {}
        unresolved_runtime: set[str] = set()
        for facts in self.by_path.values():
            *package, name = facts["module"].split(".")
            if is_test_path(PurePath(*package, f"{name}.py")):
                continue
            for caller, ref, how in facts["refs"]:
                target = self.resolve(facts, ref, caller)
                if target is not None:
                    uses.setdefault(target, set()).add(how)
                elif how == "runtime":
                    unresolved_runtime.add(ref.rsplit(".", 1)[-1])
        found = {}
        for (module, qual), hows in uses.items():
            name = qual.rsplit(".", 1)[-1]
            if "runtime" not in hows and name not in unresolved_runtime:
                found[(module, qual)] = "factory" if hows == {"factory"} else "call"
        return self._by_path(found)


_FACT_TYPES = {
    "functions": list, "imports": dict, "calls": dict, "entries": list, "instances": dict, "refs": list, "lock_makers": dict,
}


def well_formed(facts: object) -> bool:
    """``facts`` are index facts as ``tree_facts`` makes them (a cache entry may be anything)."""
    if not isinstance(facts, dict) or any(not isinstance(facts.get(k), t) for k, t in _FACT_TYPES.items()):
        return False
    strings = (*facts["functions"], *facts["imports"].values(), *facts["instances"].values(), *facts["lock_makers"].values())
    calls = facts["calls"].values()
    return (
        all(isinstance(s, str) for s in strings)
        and all(isinstance(c, list) and all(isinstance(s, str) for s in c) for c in calls)
        and all(
            isinstance(e, list) and len(e) == 3 and all(isinstance(s, str) for s in e)
            for e in (*facts["entries"], *facts["refs"])
        )
    )
