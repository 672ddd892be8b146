"""A run's first pass: one read and one ``ast`` parse per file serve both the project index
and the rules' necessary conditions.

The project index (``ftmigrate.project_index``) must see every file before any finding can
be graded, so a run reads every file twice: once for the index, once to check it. This pass
makes the second read cheap:

- each file's bytes are read once here, and their cache key (the same for index facts and
  file results: ``Cache.key``) goes on to the results cache, which need not read them again;
- a file whose facts are not cached is parsed here, and the same tree answers every rule's
  ``prefilter``/``candidate`` (their necessary conditions). A file no rule wants is *quiet*:
  its result (no findings) is known without a second parse. Only the others are checked.

Facts found in the cache say nothing about the rules (they are kept per content, for any
rules and settings): such a file is checked as usual, and its result mostly comes from the
results cache.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ftmigrate.cache import Cache
from ftmigrate.sourcefile import SourceError, decode_source, read_bytes

POOL_MIN_FILES = 16  # fewer files than this are handled in-process: a pool costs more


@dataclass
class Pass:
    """What the first pass learned of one file."""

    facts: dict  # the project index's facts (``project_index.file_facts``)
    key: str | None = None  # its cache key, None when it was not read (or no cache)
    quiet: bool = False  # no rule can find anything in it: its result is empty
    look: "FirstLook | None" = None  # what its check need not work out again


@dataclass(frozen=True)
class FirstLook:
    """What this pass's ``ast`` of a file that some rule wants already told: the codes of
    the rules whose necessary conditions hold (``Rule.prefilter``/``candidate``). The
    file's check asks only those rules, without running the candidates again, when the
    bytes it reads are still those of ``digest``."""

    digest: str
    codes: tuple[str, ...]


def digest_of(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def can_fork() -> bool:
    # fork shares the parent's imported modules (LibCST, the rules) for free; macOS's
    # system frameworks are not fork-safe, so there (and on Windows) workers are spawned.
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def first_pass(files: Sequence[Path], root: Path, rules, options: dict, *, jobs: int = 1, cache: bool = True) -> list[Pass]:
    """One ``Pass`` per file of ``files``, in order. ``rules`` (a list, or a ``RuleSelection``
    resolved only if some file must be parsed) and ``options`` (``shared_classes``,
    ``prefilter``) decide which files are quiet."""
    store = Cache(root, [], kind="index") if cache else None
    paths = [os.path.abspath(path) for path in files]
    state = {"rules": rules, "options": options, "store": store}
    if jobs <= 1 or len(paths) < POOL_MIN_FILES or (store is not None and store.folder.is_dir()):
        _state.update(state)
        return [_pass(path) for path in paths]
    context = multiprocessing.get_context("fork" if can_fork() else None)
    if not isinstance(rules, list):
        state["rules"] = rules.resolve()  # resolved once, not in every worker
    with context.Pool(min(jobs, len(paths)), initializer=_state.update, initargs=(state,)) as pool:
        return pool.map(_pass, paths, chunksize=16)


_state: dict = {}


def _pass(path: str) -> Pass:
    from ftmigrate.project_index import file_facts, module_name, tree_facts, well_formed

    store: Cache | None = _state["store"]
    try:
        raw = read_bytes(Path(path))  # never opens a FIFO or device: it would block the run
    except SourceError:
        return Pass(file_facts(Path(path), ""))  # the file's own check reports why
    key = store.key(Path(path), raw) if store is not None else None
    facts = store.load_json(key) if key is not None else None
    if well_formed(facts):
        facts["module"] = module_name(Path(path))  # it depends on the folders, not the bytes
        return Pass(facts, key)
    tree, quiet, look = _parse(path, raw)
    facts = tree_facts(Path(path), tree) if tree is not None else file_facts(Path(path), raw.decode("utf-8", errors="replace"))
    if key is not None:
        store.store_json(key, facts)
    return Pass(facts, key, quiet, look)


def _parse(path: str, raw: bytes):
    """(the file's ``ast``, whether no rule wants it, its ``FirstLook``); (None, False, None)
    when the file's own check must say why it cannot be read, decoded or parsed, or how big
    it is."""
    from ftmigrate.engine import candidate_rules, wanted_rules
    from ftmigrate.parsing import MAX_PARSE_BYTES, syntax_tree

    if len(raw) > MAX_PARSE_BYTES:
        return None, False, None
    try:
        source = decode_source(Path(path), raw)
        tree = syntax_tree(source.text, path)
    except (SourceError, RecursionError):
        return None, False, None
    options = _state["options"]
    if not options.get("prefilter", True):
        return tree, False, None
    rules = _state["rules"]
    if not isinstance(rules, list):
        rules = _state["rules"] = rules.resolve()
    try:
        wanted = wanted_rules(source.text, rules)
        codes = tuple(rule.code for rule in candidate_rules(tree, wanted, options.get("shared_classes", ()))) if wanted else ()
    except RecursionError:  # the file's own check retries on a deep stack
        return tree, False, None
    if not codes:
        return tree, True, None
    return tree, False, FirstLook(digest_of(raw), codes)
