"""The rule API: what a rule module in ``codemods/`` defines.

A rule is a class with a code (``FT001``), a short name, a one-line summary, a docstring
in ruff's shape (What it does / Why is this bad? / Example / Use instead / Fix safety),
``VALID``/``INVALID`` examples that the test suite runs, prefilter ``tokens``, and
``check()``, which yields ``Site``s: places where shared state is read-modified-written.
A site carries its own fix (a ``Guard`` or ``Replace`` from ``ftmigrate.locking``); the
engine plans all guards of a file together so that rules share locks.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import ClassVar, Iterable, Union

import libcst as cst
import libcst.matchers as m

from ftmigrate.analysis import FileContext, LockRef, calls_unknown_code, return_after
from ftmigrate.locking import Guard, Replace

Fix = Union[Guard, Replace]


@dataclass(frozen=True)
class Example:
    """``code`` is reported; ``fixed`` is what ``apply`` makes of it (None: no automatic fix)."""

    code: str
    fixed: str | None = None


@dataclass(eq=False)
class Site:
    """A place a rule looked at: a finding unless ``guarded_by`` says it is already locked."""

    rule: str
    node: cst.CSTNode
    message: str
    fix: Fix | None = None
    guarded_by: LockRef | None = None
    unfixable_reason: str | None = None


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    # The file must contain one of these strings for the rule to find anything; files
    # without any are not parsed at all.
    tokens: ClassVar[tuple[str, ...]] = ()
    VALID: ClassVar[list[str]] = []
    INVALID: ClassVar[list[Example]] = []

    def check(self, ctx: FileContext) -> Iterable[Site]:
        raise NotImplementedError

    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def fixable(cls) -> bool:
        return any(example.fixed is not None for example in cls.INVALID)

    def site(self, node: cst.CSTNode, message: str, **kwargs) -> Site:
        return Site(rule=self.code, node=node, message=message, **kwargs)

    def read_modify_write_site(
        self,
        ctx: FileContext,
        node: cst.CSTNode,
        subject: str,
        reads: m.BaseMatcherNode,
        safe_receivers: frozenset[str] = frozenset(),
        **guard: object,
    ) -> Site:
        """A finding for ``node``, a read-modify-write of ``subject`` (e.g. "`counter`
        (module state)"), fixed by locking its statement; ``guard`` gives the Guard's state,
        domain, function, receiver, anchor. A ``return`` right after that ``reads`` the state
        joins the critical section; a call other than to ``safe_receivers`` makes it reentrant."""
        stmt = ctx.statement_of(node)
        fix = Guard(
            stmt=stmt,
            reentrant=calls_unknown_code(node, safe_receivers),
            followers=return_after(ctx, stmt, reads),
            **guard,
        )
        message = f"{subject} is read, modified and written without a lock; concurrent threads lose updates"
        return self.site(node, message, fix=fix, guarded_by=ctx.guard_of(node))
