"""The rule registry: every rule ftmigrate knows, in the order fixes are planned."""

from __future__ import annotations

from ftmigrate.config import ConfigError
from ftmigrate.rules import Rule
from ftmigrate.selection import RuleSelection

from codemods.ft001_global_rmw import GlobalReadModifyWrite
from codemods.ft002_check_then_act import CheckThenAct
from codemods.ft003_lazy_init import LazyInitialisation
from codemods.ft004_shared_item_attr_rmw import SharedItemAttributeReadModifyWrite

ALL_RULES: list[type[Rule]] = [GlobalReadModifyWrite, CheckThenAct, LazyInitialisation, SharedItemAttributeReadModifyWrite]
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}


def _matching(selector: str) -> list[type[Rule]]:
    selector = selector.strip().upper()
    if selector == "ALL":
        return list(ALL_RULES)
    matched = [rule for rule in ALL_RULES if rule.code.startswith(selector)]
    if not selector or not matched:
        known = ", ".join(RULES_BY_CODE)
        raise ConfigError(f"unknown rule code or prefix {selector!r} (known: {known})")
    return matched


def select_rules(select: list[str] | None, ignore: list[str]) -> list[Rule]:
    """Rules enabled by ``select`` (default: all) minus ``ignore``; codes or prefixes like ruff."""
    chosen = {r.code for s in (select or ["ALL"]) for r in _matching(s)}
    dropped = {r.code for s in ignore for r in _matching(s)}
    return [rule() for rule in ALL_RULES if rule.code in chosen - dropped]


def configured_rules(select: list[str], ignore: list[str], config) -> list[Rule]:
    """The rules a run uses: command-line ``select``/``ignore`` over the config's (a ``Config``);
    see ``RuleSelection.configured``."""
    return RuleSelection.configured(select, ignore, config).resolve()
