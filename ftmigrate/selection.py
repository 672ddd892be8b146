"""Which rules a run enables, as asked for; the rule classes are imported only when needed.

Importing the rules means importing LibCST, a good part of a run's start-up time. A
re-scan whose every file is answered from the cache never needs them, so the command line
hands ``runner.run`` a ``RuleSelection`` rather than rule objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftmigrate.rules import Rule


@dataclass(frozen=True)
class RuleSelection:
    """Rule codes or prefixes to enable (None: all) and to disable, like ruff's."""

    select: tuple[str, ...] | None
    ignore: tuple[str, ...] = ()

    @classmethod
    def configured(cls, select: list[str], ignore: list[str], config) -> RuleSelection:
        """Command-line ``select``/``ignore`` over the config's (a ``Config``).

        As in ruff, a ``--select`` on the command line starts the selection afresh: the
        config's select and ignore give way to it; a ``--ignore`` alone adds to the config's.
        """
        if select:
            return cls(tuple(select), tuple(ignore))
        return cls(None if config.select is None else tuple(config.select), tuple(config.ignore + ignore))

    def resolve(self) -> list[Rule]:
        """The rule objects; raises ConfigError for an unknown code or prefix."""
        from codemods import select_rules

        return select_rules(None if self.select is None else list(self.select), list(self.ignore))
