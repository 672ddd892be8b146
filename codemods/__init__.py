"""The rule registry: every rule ftmigrate knows, in the order fixes are planned."""

from __future__ import annotations

import importlib

from ftmigrate.config import ConfigError
from ftmigrate.rules import Rule
from ftmigrate.rules_ast import ast_port_enabled
from ftmigrate.selection import RuleSelection

# (module, class) of each rule, in the order fixes are planned.
_RULES = (
    ("codemods.ft001_global_rmw", "GlobalReadModifyWrite"),
    ("codemods.ft002_check_then_act", "CheckThenAct"),
    ("codemods.ft003_lazy_init", "LazyInitialisation"),
    ("codemods.ft004_shared_item_attr_rmw", "SharedItemAttributeReadModifyWrite"),
)


def _load_rules() -> list[type[Rule]]:
    """The rule classes; with ``ast_port_enabled()``, those of the ``_ast`` modules (imported
    only then, so the default path never depends on them). A rule whose ``_ast`` module, or
    an ``_ast`` module it imports, does not exist yet is left out; any other failure raises."""
    rules = []
    for module_name, class_name in _RULES:
        if ast_port_enabled():
            module_name += "_ast"
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if not (exc.name or "").endswith("_ast"):
                    raise
                continue  # not ported yet, or a port module it needs is not written yet
        else:
            module = importlib.import_module(module_name)
        rules.append(getattr(module, class_name))
    return rules


ALL_RULES: list[type[Rule]] = _load_rules()
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
