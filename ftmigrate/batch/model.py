"""What a batch is made of: its options, one task per repository, one result per repository.

All three are plain, picklable data, because a task travels to a worker process (or a Dask
worker on another machine) and its result travels back; results are also stored as JSON
in the output folder, which is what ``--resume`` reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Sequence

from ftmigrate import __version__

CHANGED, CLEAN, FAILED, SKIPPED = "changed", "clean", "failed", "skipped"
# A stopped batch (SIGINT/SIGTERM): work in flight undone, or never begun. Neither is stored,
# so `--resume` does them.
ROLLED_BACK, NOT_STARTED = "rolled back", "not started"
DEFAULT_BRANCH = "ftmigrate/free-threading"
# Names the output folder uses itself: a repository called "report" must not clobber report.json.
RESERVED_NAMES = frozenset({"report", "worktrees", "clones"})

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[^/:]+@[^/:]+:")


@dataclass(frozen=True)
class VerifySettings:
    """``batch --verify``: how ``ftmigrate verify`` runs in each repository."""

    python: str  # the free-threaded interpreter's path, resolved before any repository is touched
    threads: int = 8
    iterations: int = 3
    timeout: float = 120.0  # seconds per test before it counts as hanging


@dataclass
class VerifySummary:
    """What ``verify`` found in one repository: the migrated tree, compared with HEAD when
    the migration changed it. DIR/<name>.verify.json has verify's whole report."""

    gil_stays_off: bool | None = None
    gil_reenabled_by: list[str] = field(default_factory=list)  # the modules that turned it back on
    passes: int = 0
    fails_only_in_threads: int = 0
    flaky: int = 0
    crashes: int = 0
    hangs: int = 0
    compared_with: str | None = None  # the commit the migrated tree was compared with (None: unchanged)
    fixed: list[str] = field(default_factory=list)  # thread failures at HEAD the migration removed
    broken: list[str] = field(default_factory=list)  # tests passing at HEAD the migration broke
    xdist_turned_off: list[str] = field(default_factory=list)  # the repository's xdist options verify overrode
    error: str | None = None  # verify could not run (pip failed, pytest could not collect, ...)
    exit_code: int = 2  # verify's own: 0 clean, 1 thread problems / GIL / broken, 2 error
    report: str | None = None  # file name in DIR
    seconds: float = 0.0


@dataclass(frozen=True)
class BatchOptions:
    output: str  # absolute path of the output folder (DIR)
    branch: str = DEFAULT_BRANCH
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # added to each repository's own `exclude`
    test_cmd: str | None = None
    test_timeout: float = 900.0
    dry_run: bool = False
    resume: bool = False
    verify: VerifySettings | None = None

    def key(self) -> str:
        """Identifies what a result depends on besides the HEAD commit (``--resume`` compares it)."""
        relevant = {
            "ftmigrate": __version__,
            "branch": self.branch,
            "select": sorted(self.select),
            "ignore": sorted(self.ignore),
            **({"exclude": sorted(self.exclude)} if self.exclude else {}),  # unchanged keys for runs without it
            "test_cmd": self.test_cmd,
            "dry_run": self.dry_run,
            **({"verify": asdict(self.verify)} if self.verify else {}),
        }
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RepoTask:
    source: str  # an absolute local path, or a URL for `git clone`
    name: str  # unique in the output folder: DIR/<name>.json, DIR/<name>.patch
    options: BatchOptions
    # A retry after the worker running this task died: the branch that attempt may have
    # created just before dying is adopted if it holds the same change (as --resume does).
    retry: bool = False


@dataclass
class CommandOutcome:
    """How ``--test-cmd`` went in the migrated worktree."""

    command: str
    passed: bool
    exit_code: int | None
    timed_out: bool
    seconds: float
    output_tail: str


@dataclass
class RepoResult:
    name: str
    source: str
    status: str
    repository: str | None = None  # where the branch is: the repository itself, or our clone of a URL
    head: str | None = None  # the commit the migration started from
    branch: str | None = None
    commit: str | None = None
    files_changed: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)  # rule code -> count
    fixed: int = 0
    not_fixable: int = 0
    unfixable: list[dict] = field(default_factory=list)  # {"path", "line", "rule", "reason"}
    test: CommandOutcome | None = None
    verify: VerifySummary | None = None
    patch: str | None = None  # file name in DIR
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    options_key: str | None = None
    resumed: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RepoResult":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("test") is not None:
            values["test"] = CommandOutcome(**values["test"])
        if values.get("verify") is not None:
            values["verify"] = VerifySummary(**values["verify"])
        return cls(**values)


def is_url(source: str) -> bool:
    """True for what only `git clone` can reach (``https://``, ``ssh://``, ``user@host:path``)."""
    return bool(_URL.match(source))


def normalize_source(source: str) -> str:
    """Local paths become absolute here, in the client: a worker may run in another folder."""
    return source if is_url(source) else os.path.abspath(os.path.expanduser(source))


def _base_name(source: str) -> str:
    base = re.split(r"[/:\\]", source.rstrip("/\\"))[-1]
    base = base[:-4] if base.endswith(".git") else base
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "repo"


def repo_names(sources: Sequence[str]) -> list[str]:
    """A file name per source, unique even when basenames repeat (also on case-insensitive
    file systems); a repeated basename gets a hash of the full source, so names are stable
    from one run to the next, which ``--resume`` relies on."""
    bases = [_base_name(s) for s in sources]
    counts = Counter(b.casefold() for b in bases)
    names = []
    for source, base in zip(sources, bases):
        if counts[base.casefold()] > 1 or base.casefold() in RESERVED_NAMES:
            base = f"{base}-{hashlib.sha1(source.encode()).hexdigest()[:8]}"
        names.append(base)
    return names


def make_tasks(sources: Sequence[str], options: BatchOptions) -> tuple[list[RepoTask], list[str]]:
    """Tasks in the given order, one per distinct source; also the sources listed twice."""
    unique: list[str] = []
    repeated: list[str] = []
    for source in map(normalize_source, sources):
        (repeated if source in unique else unique).append(source)
    return [RepoTask(s, n, options) for s, n in zip(unique, repo_names(unique))], repeated
