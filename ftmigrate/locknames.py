"""Names for new locks: short, and saying what they guard.

One state: ``_counter_lock``. A group of states guarded together: the words their names
share (``cache_hits`` and ``cache_misses``: ``_cache_lock``), else the class, closure or
module that holds them (``stats.py``: ``_stats_lock``; ``class RequestStats``:
``_request_stats_lock``), else the one function that updates them (``_record_lock``).
Every candidate is at most ``MAX_LENGTH`` characters; the planner takes the first that
collides with nothing in the module, and numbers the first only when all collide.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_LENGTH = 32
_SUFFIX = "_lock"


def words(name: str) -> list[str]:
    """``_requestsServed`` -> ``["requests", "served"]``: snake_case words, lower case."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def _name(parts: list[str]) -> str | None:
    """``_<parts>_lock``, dropping trailing words until it fits; None if nothing fits."""
    parts = [p for p in parts if p]
    while parts:
        name = "_" + "_".join(parts) + _SUFFIX
        if len(name) <= MAX_LENGTH and not (name.startswith("_lock") and len(parts) == 1 and parts[0] == "lock"):
            return name
        parts = parts[:-1]
    return None


def _common(lists: list[list[str]], reverse: bool) -> list[str]:
    if reverse:
        return _common([w[::-1] for w in lists], False)[::-1]
    shared = []
    for column in zip(*lists):
        if len(set(column)) != 1:
            break
        shared.append(column[0])
    return shared


def module_name(path: Path | None) -> str | None:
    """What a module is called: its file's stem, or its package's for ``__init__.py``."""
    if path is None:
        return None
    stem = path.stem if path.stem != "__init__" else path.parent.name
    return stem if stem.isidentifier() else None


def candidates(states: list[str], owner: str | None, functions: list[str]) -> list[str]:
    """Names for one lock guarding ``states`` (in the order found), best first. ``owner``:
    the class, closure-owning function or module holding the states; ``functions``: the
    functions that update them."""
    state_words = [w for w in (words(s) for s in dict.fromkeys(states)) if w]
    found: list[str | None] = []
    if len(state_words) == 1:
        found.append(_name(state_words[0]))
    else:
        for shared in (_common(state_words, False), _common(state_words, True)):
            if len("_".join(shared)) >= 3 and shared not in (["lock"], ["locks"]):
                found.append(_name(shared))
    if owner:
        found.append(_name(words(owner)))
    unique_functions = list(dict.fromkeys(functions))
    if len(unique_functions) == 1 and not unique_functions[0].startswith("__"):
        found.append(_name(words(unique_functions[0])))
    found.append(_name([w for ws in state_words[:2] for w in ws[:2]]))
    found.append("_state_lock")
    return list(dict.fromkeys(n for n in found if n))
