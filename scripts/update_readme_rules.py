"""Regenerate README.md's rule section from the rule classes (`python scripts/update_readme_rules.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codemods import ALL_RULES  # noqa: E402
from ftmigrate.ruledocs import with_rules_block  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"

if __name__ == "__main__":
    README.write_text(with_rules_block(README.read_text(encoding="utf-8"), ALL_RULES), encoding="utf-8")
