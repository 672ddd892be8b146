"""The rule API on the standard ``ast``: what a rule module in ``codemods/`` defines.

A rule is a class with a code (``FT001``), a short name, a one-line summary, a docstring
in ruff's shape (What it does / Why is this bad? / Example / Use instead / Fix safety),
``VALID``/``INVALID`` examples that the test suite runs, and ``check()``, which yields
``Site``s: places where shared state is read-modified-written.
A site carries its own fix (a ``Guard`` or ``Replace`` from ``ftmigrate.fixes``); the
engine plans all guards of a file together so that rules share locks.

Detection runs on the standard library's ``ast`` (``ftmigrate.analysis.FileContext``);
LibCST is parsed only for a file with a fixable finding, to write its rewrite.

Prefilters: a large codebase is checked at linter speed because most files never reach
``check()``. Each rule declares, from cheapest to dearest, necessary conditions for a
finding (they may let through files without findings, never the reverse): ``tokens``
(plain substrings, one must occur), ``pattern`` (a regex the text must match; derived
from ``tokens`` unless set), ``prefilter(text)`` (any further test of the text, e.g. on
the names a file declares; ``ftmigrate.prefilter`` has building blocks) and
``candidate(tree)`` on the file's ``ast``. Findings come from ``check()`` alone.
``tests/test_fast_path.py`` holds every registered rule to this on real files.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable, Union

if TYPE_CHECKING:
    from ftmigrate.analysis import FileContext
    from ftmigrate.fixes import Domain, Guard, LockRef, Replace

    Fix = Union[Guard, Replace]

# A test of a node (e.g. "does it read the state?").
Predicate = Callable[[ast.AST], bool]


@dataclass(frozen=True)
class Example:
    """``code`` is reported; ``fixed`` is what ``apply`` makes of it (None: no automatic
    fix). With ``unsafe``, the fix is unsafe (``ftmigrate.fixsafety``): ``fixed`` is what
    ``apply --unsafe-fixes`` makes of it, and plain ``apply`` leaves the code as it is."""

    code: str
    fixed: str | None = None
    unsafe: bool = False


@dataclass(eq=False)
class Site:
    """A place a rule looked at: a finding unless ``guarded_by`` says it is already locked.

    ``node`` is an ``ast`` node; the finding's position is its span (``lineno``,
    ``col_offset``, ``end_lineno``, ``end_col_offset``; through ``end_node``'s end when
    given), the engine turns it into character columns. A decorator (an element of a
    ``decorator_list``) starts at its ``@``, as LibCST's ``Decorator`` does."""

    rule: str
    node: ast.AST
    message: str
    fix: Fix | None = None
    guarded_by: LockRef | None = None
    unfixable_reason: str | None = None
    # Where the state lives (module, class, instances, closure): what the confidence of the
    # finding is judged by. Default: the fix's.
    domain: Domain | None = None
    # The state's name (``workers`` for ``self.workers``) and the statements after ``node``
    # up to its last change: what the confidence looks for an ``await`` in. Default: the fix's.
    state: str | None = None
    followers: tuple[ast.stmt, ...] = ()
    # The finding ends where this node ends (LibCST's line ``a; b`` is one node): default ``node``.
    end_node: ast.AST | None = None

    def __post_init__(self) -> None:
        from ftmigrate.fixes import Guard

        if isinstance(self.fix, Guard):
            self.domain = self.domain or self.fix.domain
            self.state = self.state or self.fix.state
            self.followers = self.followers or self.fix.followers


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    # The file must contain one of these strings for the rule to find anything; files
    # without any are not parsed at all.
    tokens: ClassVar[tuple[str, ...]] = ()
    # The file text must match this regex (searched anywhere) for the rule to find
    # anything. Default: any of ``tokens`` (None when the rule has no tokens).
    pattern: ClassVar[re.Pattern[str] | None] = None
    VALID: ClassVar[list[str]] = []
    INVALID: ClassVar[list[Example]] = []

    _pattern_is_tokens: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "pattern" in cls.__dict__:  # the rule's own
            cls._pattern_is_tokens = False
        else:  # from the rule's own tokens; the substring test in prefilter() says the same, faster
            cls.pattern = re.compile("|".join(re.escape(token) for token in cls.tokens)) if cls.tokens else None
            cls._pattern_is_tokens = True

    def check(self, ctx: FileContext) -> Iterable[Site]:
        raise NotImplementedError

    def prefilter(self, text: str) -> bool:
        """False if the file text cannot hold a finding of this rule (then it is not parsed).

        The default tests ``tokens`` (fast substring search) and then ``pattern``; a rule
        may override it with a tighter test, calling this one first.
        """
        if self.tokens and not any(token in text for token in self.tokens):
            return False
        return self.pattern is None or self._pattern_is_tokens or self.pattern.search(text) is not None

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """False if the file's standard-library ``ast`` cannot hold a site of this rule
        (``shared_classes``: the configuration's ``shared-classes``).

        A necessary condition only, checked before ``check()``; never a second detector:
        findings come from ``check()``. It must hold wherever ``check()`` could yield any
        site, one already under a lock included. Default: every file is a candidate.
        """
        return True

    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def fixable(cls) -> bool:
        return any(example.fixed is not None for example in cls.INVALID)

    def site(self, node: ast.AST, message: str, **kwargs) -> Site:
        return Site(rule=self.code, node=node, message=message, **kwargs)

    def read_modify_write_site(
        self,
        ctx: FileContext,
        node: ast.AST,
        subject: str,
        reads: Predicate,
        safe_receivers: frozenset[str] = frozenset(),
        **guard: object,
    ) -> Site:
        """A finding for ``node``, a read-modify-write of ``subject`` (e.g. "`counter`
        (module state)"), fixed by locking its statement; ``guard`` gives the Guard's state,
        domain, function, receiver, anchor. The adjacent statements before it that read the
        state for the update (``ftmigrate.spans``; ``reads`` tests a node for a read of
        the state) and a ``return`` right after it that ``reads`` the state join the
        critical section; a call other than to ``safe_receivers`` makes it reentrant."""
        from ftmigrate.analysis import calls_unknown_code, return_after
        from ftmigrate.fixes import Guard
        from ftmigrate.spans import update_span

        stmt = ctx.statement_of(node)
        leaders = update_span(ctx, stmt, reads).leaders
        fix = Guard(
            stmt=stmt,
            reentrant=any(calls_unknown_code(n, safe_receivers) for n in (*leaders, node)),
            followers=return_after(ctx, stmt, reads),
            leaders=leaders,
            **guard,
        )
        message = f"{subject} is read, modified and written without a lock; concurrent threads lose updates"
        return self.site(node, message, fix=fix, guarded_by=ctx.guard_of(node))
