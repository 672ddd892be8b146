"""Fuzzing: hypothesmith-generated modules through ``scan`` and ``apply``.

Every example must not crash either command, and whatever ``apply`` writes must pass the
checks of scripts/selfcheck.py (compiles, AST-identical apart from lock code, idempotent).
Generated modules almost never contain ``global``, so a second strategy splices racy
snippets into function bodies of generated code, which drives the rewrite path.
The runs are bounded and derandomized: the same examples on every run (300 per test;
FTMIGRATE_FUZZ_EXAMPLES=N for a longer or shorter run).
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from codemods import select_rules
from ftmigrate.config import Config
from ftmigrate.runner import SCAN, run
from tests.helpers import load_script

selfcheck = load_script("selfcheck")

# hypothesmith compiles what it generates; `1()` makes the compiler warn. ftmigrate's own
# compiles are silent (tests/test_hostile_input.py checks that).
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

EXAMPLES = int(os.environ.get("FTMIGRATE_FUZZ_EXAMPLES", 300))  # 300 in CI
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Racy code (and one already locked) for a function body, with what it needs at module
# level; {i} keeps names unique. One or more shapes per rule: FT001, FT002, FT003.
SNIPPETS = [
    ([], ["global _fz_n{i}\n", "_fz_n{i} += 1\n"]),
    ([], ["global _fz_n{i}\n", "_fz_n{i} = _fz_n{i} + 1\n", "return _fz_n{i}\n"]),
    ([], ["global _fz_n{i}\n", "_fz_n{i} += _fz_compute()\n"]),
    ([], ["global _fz_n{i}\n", "if _fz_n{i}: _fz_n{i} -= 1\n"]),
    ([], ["global _fz_n{i}\n", "with _fz_lock:\n    _fz_n{i} += 1\n"]),
    ([], ["_fz_c{i} = 0\n", "def _fz_inc{i}():\n    nonlocal _fz_c{i}\n    _fz_c{i} += 1\n    return _fz_c{i}\n"]),
    (["_fz_n{i} = 0\n"], ["global _fz_n{i}\n", "_fz_n{i} += 1\n"]),
    (["_fz_seen{i} = []\n"], ["if _fz_x not in _fz_seen{i}:\n    _fz_seen{i}.append(_fz_x)\n"]),
    (["_fz_cache{i} = {{}}\n"], ["if _fz_k not in _fz_cache{i}:\n    _fz_cache{i}[_fz_k] = _fz_compute(_fz_k)\n"]),
    (["_fz_client{i} = None\n"], ["global _fz_client{i}\n", "if _fz_client{i} is None:\n    _fz_client{i} = _fz_make()\n"]),
]


class _FunctionBlocks(cst.CSTTransformer):
    """Numbers the statement blocks whose innermost scope is a function; on a second pass
    inserts ``inserts[n]`` (a list of (index, statements)) into block ``n``."""

    def __init__(self, inserts: dict[int, list[tuple[int, list[cst.BaseStatement]]]] | None = None) -> None:
        super().__init__()
        self.inserts = inserts or {}
        self.scopes: list[str] = []
        self.count = 0
        self.numbers: list[int | None] = []

    def visit_FunctionDef(self, node) -> None:
        self.scopes.append("function")

    def leave_FunctionDef(self, original_node, updated_node):
        self.scopes.pop()
        return updated_node

    def visit_ClassDef(self, node) -> None:
        self.scopes.append("class")

    def leave_ClassDef(self, original_node, updated_node):
        self.scopes.pop()
        return updated_node

    def visit_IndentedBlock(self, node) -> None:
        if self.scopes and self.scopes[-1] == "function":
            self.numbers.append(self.count)
            self.count += 1
        else:
            self.numbers.append(None)

    def leave_IndentedBlock(self, original_node, updated_node):
        number = self.numbers.pop()
        body = list(updated_node.body)
        for index, stmts in sorted(self.inserts.get(number, []), key=lambda item: -item[0]):
            body[index:index] = stmts
        return updated_node.with_changes(body=body)


def splice_racy_code(base: str, host: str, rnd: random.Random) -> str | None:
    """``base`` with racy snippets spliced into some of its functions' bodies, plus a new
    function whose body is ``host``'s statements with snippets spliced in; None if that
    does not compile (e.g. ``return`` with a value in an async generator).

    The choices come from ``rnd`` (hypothesis-seeded): drawing several hypothesmith
    modules inside one composite strategy is a hundred times slower than this."""
    try:
        module, generated = cst.parse_module(base), cst.parse_module(host)
    except cst.ParserSyntaxError:
        return None
    counter = iter(range(1000))
    config = module.config_for_parsing

    module_level: list[cst.BaseStatement] = []

    def snippet() -> list[cst.BaseStatement]:
        i = next(counter)
        at_module, in_function = rnd.choice(SNIPPETS)
        module_level.extend(cst.parse_statement(line.format(i=i), config=config) for line in at_module)
        return [cst.parse_statement(line.format(i=i), config=config) for line in in_function]

    blocks = _FunctionBlocks()
    module.visit(blocks)
    inserts: dict[int, list] = {}
    for number in range(min(blocks.count, 4)):
        for _ in range(rnd.randint(0, 2)):
            inserts.setdefault(number, []).append((rnd.randint(0, 3), snippet()))
    module = module.visit(_FunctionBlocks(inserts)) if inserts else module
    inner = list(generated.body)
    for _ in range(rnd.randint(1, 2)):
        position = rnd.randint(0, len(inner))
        inner[position:position] = snippet()
    function = cst.parse_statement("def _fz_host():\n    pass\n", config=config)
    function = function.with_changes(body=function.body.with_changes(body=inner))
    body = list(module.body)
    body.insert(rnd.randint(0, len(body)), function)
    for stmt in module_level:
        body.insert(rnd.randint(0, len(body)), stmt)
    code = module.with_changes(body=body).code
    try:
        compile(code, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    return code


def _round_trip(code: str, workdir: Path, counts: Counter) -> None:
    """Scan, then apply and check the way scripts/selfcheck.py does; count the outcome."""
    try:
        data = code.encode("utf-8")
    except UnicodeEncodeError:
        assume(False)
    rules = select_rules(None, [])
    path = workdir / "fuzz.py"
    path.write_bytes(data)
    [scanned] = run([path], rules, Config(root=workdir), SCAN).results
    assert not scanned.internal, f"scan crashed: {scanned.error}\n{code}"
    counts["examples"] += 1
    counts["with findings"] += bool(scanned.findings)
    counts["findings"] += len(scanned.findings)
    counts.update(f"findings {f.rule}" for f in scanned.findings)
    applied = workdir / "apply"
    applied.mkdir(exist_ok=True)
    outcome = selfcheck.check_one(path, rules, applied, "fuzz.py")
    if isinstance(outcome, tuple) and outcome[0] in ("skipped", "unsupported"):
        counts[outcome[0]] += 1
        return
    assert not isinstance(outcome, tuple), f"{outcome[0]}: {outcome[1]}\n--- input ---\n{code}"
    counts["rewritten" if outcome else "unchanged"] += 1


def _fuzz(tmp_path: Path, *strategies, make=lambda code: code) -> Counter:
    counts: Counter = Counter()

    @FUZZ_SETTINGS
    @given(st.tuples(*strategies))
    def check(drawn: tuple) -> None:
        code = make(*drawn)
        assume(code is not None)
        with tempfile.TemporaryDirectory(dir=tmp_path) as workdir:
            _round_trip(code, Path(workdir), counts)

    check()
    print(dict(counts))
    return counts


def test_generated_modules_survive_scan_and_apply(tmp_path: Path):
    counts = _fuzz(tmp_path, hypothesmith.from_grammar())
    assert counts["examples"] >= EXAMPLES // 2


def test_generated_modules_with_racy_snippets_are_rewritten_correctly(tmp_path: Path):
    counts = _fuzz(
        tmp_path,
        hypothesmith.from_grammar(),
        hypothesmith.from_grammar(),
        st.randoms(use_true_random=False),
        make=splice_racy_code,
    )
    assert counts["examples"] >= EXAMPLES // 2
    assert counts["rewritten"] >= counts["examples"] // 2, dict(counts)
    assert all(counts[f"findings {code}"] > 0 for code in ("FT001", "FT002", "FT003")), dict(counts)
