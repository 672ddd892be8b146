"""Proof obligations for every rewrite, checked before anything is written.

The output must compile, and its AST must equal the input's once the inserted lock code
is taken away: ``with <inserted lock>:`` wrappers are unwrapped, double-checked ``if``s
are collapsed back to one ``if`` (only when neither has an ``else``: the planner never
writes that shape, and collapsing it would hide a lost ``else``), inserted lock
definitions and ``threading`` imports are dropped, and each declared rewrite (e.g.
``if k in d: del d[k]`` -> ``d.pop(k, None)``) is mapped back to the statement it
replaced. Anything else that differs is a bug, and the file is left untouched. Then
every inserted lock must be sound (``ftmigrate.lockcheck``): a lock ftmigrate created or
proved, existing wherever it is taken, never in an ``async def`` nor nested in another.
"""

from __future__ import annotations

import ast
import warnings

from ftmigrate.lockcheck import lock_problems
from ftmigrate.locking import Inserted

_LOCK_FACTORIES = {"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore"}


def _canon(code: str) -> str:
    return ast.unparse(ast.parse(code, mode="eval").body)


class _Normalizer(ast.NodeTransformer):
    def __init__(self, inserted: Inserted, map_back: bool) -> None:
        self.lock_exprs = {_canon(e) for e in inserted.lock_exprs}
        self.lock_names = inserted.lock_names
        self.back = {}
        if map_back:
            for before, after in inserted.substitutions:
                self.back[ast.dump(ast.parse(after).body[0])] = ast.parse(before).body

    def _is_lock_with(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.With)
            and len(node.items) == 1
            and node.items[0].optional_vars is None
            and ast.unparse(node.items[0].context_expr) in self.lock_exprs
        )

    def _statements(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if self.back and ast.dump(stmt) in self.back:
                out.extend(self._statements(self.back[ast.dump(stmt)]))
                continue
            if self._is_lock_with(stmt):
                out.extend(self._statements(stmt.body))
                continue
            if (
                isinstance(stmt, ast.If)
                and not stmt.orelse
                and len(stmt.body) == 1
                and self._is_lock_with(stmt.body[0])
                and len(stmt.body[0].body) == 1
                and isinstance(stmt.body[0].body[0], ast.If)
                and not stmt.body[0].body[0].orelse
                and ast.dump(stmt.body[0].body[0].test) == ast.dump(stmt.test)
            ):
                out.extend(self._statements(stmt.body[0].body))
                continue
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                if stmt.targets[0].id in self.lock_names:
                    continue
            if isinstance(stmt, ast.Import):
                stmt.names = [a for a in stmt.names if a.name != "threading"]
                if not stmt.names:
                    continue
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "threading" and not stmt.level:
                stmt.names = [a for a in stmt.names if a.name not in _LOCK_FACTORIES]
                if not stmt.names:
                    continue
            out.append(self.visit(stmt))
        return out

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, name, self._statements(value))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)
        return node


def normalized(tree: ast.AST, inserted: Inserted, map_back: bool) -> str:
    return ast.dump(_Normalizer(inserted, map_back).visit(tree))


def check_rewrite(old: str, new: str, inserted: Inserted, filename: str = "<file>") -> str | None:
    """None if ``new`` is ``old`` plus lock code only; else the reason it is not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the user's `x is 1` is not ours to report
        try:
            compile(new, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"the rewritten code does not compile: {exc.msg} (line {exc.lineno})"
        before = normalized(ast.parse(old), inserted, map_back=False)
        after = normalized(ast.parse(new), inserted, map_back=True)
        if before != after:
            return "the rewritten code differs from the input beyond the inserted lock code"
        return lock_problems(old, new, {_canon(e) for e in inserted.lock_exprs}, inserted.lock_names)
