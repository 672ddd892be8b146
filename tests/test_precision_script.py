"""scripts/precision.py's matching and scoring, and scripts/find_shapes.py's shape finder, on a
tiny hand-written corpus with exact expected numbers (never on the downloaded libraries)."""

from __future__ import annotations

import textwrap

from tests.helpers import load_script

precision = load_script("precision")
find_shapes = load_script("find_shapes")

SOURCE = {
    ("a", "pkg/m.py"): [
        "import threading",
        "n = 0",
        "def f():",
        "    global n",
        "    n += 1",
        "cache = {}",
        "def g(k):",
        "    if k not in cache:",
        "        cache[k] = 1",
        "def h(self):",
        "    self.x += 1",
        "    self.y += 1",
    ],
}


def label(line, rule, excerpt, verdict, sets, shape=None):
    record = {"library": "a", "version": "1", "path": "pkg/m.py", "line": line, "rule": rule,
              "excerpt": excerpt, "verdict": verdict, "sets": sets, "reason": "..."}
    if shape:
        record["shape"] = shape
    return record


LABELS = [
    # Its line moved from 3 to 5: found again by the excerpt.
    label(3, "FT001", "n += 1", "real", ["recall", "sample"], shape="global_rmw"),
    label(8, "FT002", "if k not in cache:", "benign", ["recall"], shape="check_then_act"),
    label(11, "FT004", "self.x += 1", "false", ["sample"], shape="attr_rmw"),
    # Real but not reported: a recall miss.
    label(12, "FT004", "self.y += 1", "real", ["recall"], shape="attr_rmw"),
    # Its excerpt is nowhere in the file any more.
    label(1, "FT003", "gone()", "false", ["sample"]),
]


def finding(line, rule, end_line=None, path="pkg/m.py", confidence="n/a"):
    return {"library": "a", "path": path, "line": line, "end_line": end_line or line, "rule": rule,
            "confidence": confidence}


FINDINGS = [
    finding(5, "FT001", confidence="medium"),
    finding(8, "FT002", end_line=9, confidence="medium"),
    finding(11, "FT004", confidence="low"),
    finding(2, "FT003", confidence="low"),  # no label: unjudged
    finding(1, "FT001", path="tests/test_m.py"),  # test code: not scored
]


def source_lines(library, path):
    return SOURCE.get((library, path), [])


def counts(tally):
    return tally.reported, tally.judged, dict(tally.verdicts)


def test_matches_reanchors_and_tallies_by_rule_and_confidence():
    result = precision.score(FINDINGS, LABELS, source_lines)
    assert {rule: counts(t) for rule, t in result.by_rule.items()} == {
        "FT001": (1, 1, {"real": 1}),
        "FT002": (1, 1, {"benign": 1}),
        "FT003": (1, 0, {"unjudged": 1}),
        "FT004": (1, 1, {"false": 1}),
    }
    assert {level: counts(t) for level, t in result.by_confidence.items()} == {
        "medium": (2, 2, {"real": 1, "benign": 1}),
        "low": (2, 1, {"false": 1, "unjudged": 1}),
    }
    assert counts(result.total) == (4, 3, {"real": 1, "benign": 1, "false": 1, "unjudged": 1})
    assert [(f["rule"], f["line"]) for f in result.unjudged] == [("FT003", 2)]
    assert [lb["excerpt"] for lb in result.stale_labels] == ["gone()"]


def test_recall_counts_real_and_benign_shape_sites_covered_by_the_shapes_rule():
    result = precision.score(FINDINGS, LABELS, source_lines)
    # attr_rmw: the false site (line 11) is not a recall site; the real one (12) is missed.
    # [found, real+benign sites, real found, real sites, found at the default level (medium, high)]
    assert result.recall == {
        "global_rmw": [1, 1, 1, 1, 1], "check_then_act": [1, 1, 0, 0, 1], "attr_rmw": [0, 1, 0, 1, 0]
    }
    # A site found only by a low-confidence finding is missed at the default level.
    low = [dict(f, confidence="low") if f["rule"] == "FT001" else f for f in FINDINGS]
    assert precision.score(low, LABELS, source_lines).recall["global_rmw"] == [1, 1, 1, 1, 0]
    # A finding of another rule on the same line does not count.
    other_rule = [finding(12, "FT001")]
    assert precision.score(other_rule, LABELS, source_lines).recall["attr_rmw"] == [0, 1, 0, 1, 0]


def test_only_set_judges_through_that_sets_labels_alone():
    result = precision.score(FINDINGS, LABELS, source_lines, only_set="sample")
    assert counts(result.total) == (4, 2, {"real": 1, "false": 1, "unjudged": 2})


def test_weighted_share_weights_each_rule_by_its_reported_count():
    tallies = {"FT001": precision.Tally(), "FT002": precision.Tally(), "FT003": precision.Tally()}
    for verdict in ["real", "false"]:  # FT001: 2 judged of 2 reported, half real
        tallies["FT001"].add(verdict)
    for verdict in ["false", "real", "unjudged", "unjudged", "unjudged", "unjudged"]:  # FT002: 6 reported, half real
        tallies["FT002"].add(verdict)
    tallies["FT003"].add("unjudged")  # nothing judged: left out
    assert precision.weighted_share(tallies, "real") == 0.5
    tallies["FT002"].add("false")  # FT002: 7 reported, 1 of 3 judged real
    assert abs(precision.weighted_share(tallies, "real") - (2 * 0.5 + 7 / 3) / 9) < 1e-12


def test_markdown_table_rows():
    text = precision.render(precision.score(FINDINGS, LABELS, source_lines), markdown=True)
    lines = text.splitlines()
    assert "| FT002 | 1 | 1 | 0 | 1 | 0 | 0 | 0 % | 100 % | 0 % |" in lines
    assert "| all | 4 | 3 | 1 | 1 | 1 | 1 | 33 % | 67 % | 33 % |" in lines
    assert "| all, weighted by reported | 4 |  |  |  |  |  | 33 % | 67 % | 33 % |" in lines
    # Confidence levels surest first, then what the default --min-confidence medium reports.
    confidence = [line.split(" | ")[0][2:] for line in lines if line.startswith(("| medium", "| low"))]
    assert confidence == ["medium", "low", "medium and high (the default)"]
    assert "| medium and high (the default) | 2 | 2 | 1 | 1 | 0 | 0 | 50 % | 100 % | 0 % |" in lines
    assert "| all | 2 | 3 | 67 % | 1 | 2 | 50 % | 67 % |" in lines
    assert "| check_then_act | 1 | 1 | 100 % | 0 | 0 | – | 100 % |" in lines
    assert lines[-1] == "1 labels not found in the current sources (stale)."
    assert not any(line.startswith("unjudged:") for line in lines)


def test_shape_finder_uses_plain_ast_and_finds_each_canonical_shape():
    source = textwrap.dedent(
        """
        counter = 0
        seen = []
        _instance = None

        def bump():
            global counter
            counter += 1

        def remember(x):
            if x not in seen:
                seen.append(x)

        def local_only(x):
            mine = []
            if x not in mine:
                mine.append(x)
            timeout = None
            if timeout is None:
                timeout = 3

        def get():
            global _instance
            if _instance is None:
                _instance = object()
            return _instance

        def make_counter():
            n = 0
            def inc():
                nonlocal n
                n = n + 1
            return inc

        class Pool:
            def take(self, d, k):
                self.count += 1
                self.stats[k] += 1
                d[k] += 1

            @classmethod
            def instance(cls):
                if cls._instance is None:
                    cls._instance = cls()
                return cls._instance
        """
    )
    sites = [(shape, line, func, scope) for shape, line, _, func, _, scope in find_shapes.shapes_in_source(source)]
    # `d[k] += 1` on a parameter and the locals `mine` and `timeout` are not shapes.
    assert sites == [
        ("global_rmw", 8, "bump", "shared-name"),
        ("check_then_act", 11, "remember", "shared-name"),
        ("lazy_init", 24, "get", "shared-name"),
        ("nonlocal_rmw", 32, "inc", "shared-name"),
        ("attr_rmw", 37, "take", "bound"),
        ("item_rmw", 38, "take", "bound"),
        ("lazy_init", 43, "instance", "shared-name"),
    ]


def test_library_code_excludes_tests_docs_examples_and_build_scripts():
    corpus = load_script("corpus")
    assert corpus.is_library_code("src/urllib3/connectionpool.py")
    assert corpus.is_library_code("django/contrib/sites/models.py")
    for path in ["tests/test_x.py", "test/__init__.py", "docs/conf.py", "examples/a.py", "setup.py",
                 "pkg/test_util.py", "dummyserver/app.py", "tools/trace.py"]:
        assert not corpus.is_library_code(path), path
