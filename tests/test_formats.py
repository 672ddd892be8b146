"""--format sarif / github / json-lines, --statistics and --exit-zero, through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from codemods import ALL_RULES
from ftmigrate import __version__, ruledocs
from tests.conftest import TESTDATA
from tests.helpers import fixed_text
from tests.test_cli import AWAITS, FIXED, RACY, invoke, project  # noqa: F401  (project is a fixture)

SCHEMA = json.loads((TESTDATA / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
RACY_MESSAGE = "`counter` (module state) is read, modified and written without a lock; concurrent threads lose updates"
BROKEN = "def f(:\n    global n\n    n += 1\n"


def validate(log: dict) -> None:
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    validator_class.check_schema(SCHEMA)
    validator_class(SCHEMA, format_checker=validator_class.FORMAT_CHECKER).validate(log)


def offset(text: str, line: int, column: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(x) for x in lines[: line - 1]) + column - 1


def apply_sarif_fix(text: str, fix: dict) -> str:
    """Apply a SARIF fix's replacements one after the other, in the order given."""
    (change,) = fix["artifactChanges"]
    last_start = len(text) + 1
    for replacement in change["replacements"]:
        region = replacement["deletedRegion"]
        start = offset(text, region["startLine"], region["startColumn"])
        end = offset(text, region["endLine"], region["endColumn"])
        assert start <= end <= last_start  # from the end of the file upwards, never overlapping
        text = text[:start] + replacement["insertedContent"]["text"] + text[end:]
        last_start = start
    return text


def results_by_path(log: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for result in log["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        out.setdefault(uri, []).append(result)
    return out


@pytest.fixture
def mixed(project: Path) -> Path:
    (project / "pkg" / "aio.py").write_text(AWAITS)
    (project / "pkg" / "broken.py").write_text(BROKEN)
    return project


def test_sarif_scan_is_valid_sarif_with_every_rule_regions_and_fixes(mixed):
    result = invoke("scan", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    validate(log)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("ftmigrate", __version__)
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in ALL_RULES]
    for descriptor, rule in zip(driver["rules"], ALL_RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"] == {"text": rule.summary}
        assert descriptor["fullDescription"]["markdown"] == ruledocs.what_it_does(rule)
        assert descriptor["help"]["markdown"] == rule.docs()
        assert "## " not in descriptor["help"]["text"] and "```" not in descriptor["help"]["text"]
        assert descriptor["helpUri"] == f"{ruledocs.README_URL}#{rule.code.lower()}-{rule.name}"
        assert descriptor["properties"]["fixable"] is rule.fixable()
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == mixed.resolve().as_uri() + "/"

    by_path = results_by_path(log)
    assert set(by_path) == {"pkg/racy.py", "pkg/aio.py"}
    (racy,) = by_path["pkg/racy.py"]
    assert racy["ruleId"] == "FT001" and racy["ruleIndex"] == 0 and racy["level"] == "warning"
    assert racy["message"] == {"text": RACY_MESSAGE}
    location = racy["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/racy.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 6, "startColumn": 5, "endLine": 6, "endColumn": 17}
    (fix,) = racy["fixes"]
    assert fix["artifactChanges"][0]["artifactLocation"]["uri"] == "pkg/racy.py"
    assert apply_sarif_fix(RACY, fix) == FIXED
    (aio,) = by_path["pkg/aio.py"]
    assert "fixes" not in aio and aio["properties"] == {"fixable": False, "confidence": "medium"} and aio["rank"] == 60.0
    assert aio["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 6, "startColumn": 5, "endLine": 6, "endColumn": 24,
    }

    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"].startswith("syntax error: ")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/broken.py"
    assert (mixed / "pkg" / "racy.py").read_text() == RACY  # scan never writes


def test_sarif_apply_diff_writes_nothing_and_fixes_reproduce_apply(mixed):
    before = {p: p.read_bytes() for p in mixed.rglob("*.py")}
    result = invoke("apply", "--diff", "--format", "sarif")
    assert result.exit_code == 1
    assert {p: p.read_bytes() for p in mixed.rglob("*.py")} == before
    log = json.loads(result.stdout)
    validate(log)
    (racy,) = results_by_path(log)["pkg/racy.py"]
    assert apply_sarif_fix(RACY, racy["fixes"][0]) == FIXED
    assert "--- a/" not in result.stdout  # the SARIF log replaces the diff


def test_sarif_after_apply_says_what_was_fixed(mixed):
    log = json.loads(invoke("apply", "--format", "sarif").stdout)
    validate(log)
    by_path = results_by_path(log)
    assert by_path["pkg/racy.py"][0]["properties"] == {"fixable": True, "fixed": True, "confidence": "medium"}
    assert "fixes" not in by_path["pkg/racy.py"][0]  # already written
    assert by_path["pkg/aio.py"][0]["properties"] == {"fixable": False, "fixed": False, "confidence": "medium"}
    assert (mixed / "pkg" / "racy.py").read_text() == FIXED


def test_sarif_fix_regions_count_code_points_and_keep_crlf(project):
    source = "# café ☕ counter\r\ncafés = 0\r\n\r\n\r\ndef add(n):\r\n    global cafés\r\n    cafés += n\r\n"
    (project / "pkg" / "racy.py").write_bytes(source.encode("utf-8"))
    log = json.loads(invoke("scan", "--format", "sarif").stdout)
    validate(log)
    (result,) = results_by_path(log)["pkg/racy.py"]
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 7, "startColumn": 5, "endLine": 7, "endColumn": 15,
    }
    fixed = apply_sarif_fix(source, result["fixes"][0])
    assert fixed == fixed_text(source) and "\r\n" in fixed and "\n" not in fixed.replace("\r\n", "")


def test_sarif_shares_one_fix_between_the_findings_of_a_file(project):
    (project / "pkg" / "racy.py").write_text(
        "a = 0\nb = 0\n\n\ndef f():\n    global a, b\n    a += 1\n    b += 1\n"
    )
    log = json.loads(invoke("scan", "--format", "sarif").stdout)
    first, second = results_by_path(log)["pkg/racy.py"]
    assert first["fixes"] == second["fixes"]
    assert "2 fixes" in first["fixes"][0]["description"]["text"]
    assert apply_sarif_fix((project / "pkg" / "racy.py").read_text(), first["fixes"][0]) == fixed_text(
        (project / "pkg" / "racy.py").read_text()
    )


def test_github_annotations(mixed):
    (mixed / "pkg" / "odd,name.py").write_text(RACY)
    result = invoke("scan", "--format", "github")
    assert result.exit_code == 1
    aio = "`n` (module state) is read, modified and written without a lock; concurrent threads lose updates"
    assert result.stdout.splitlines() == [
        f"::warning file=pkg/aio.py,line=6,col=5,endLine=6,endColumn=24,title=FT001::{aio} [confidence: medium]",
        f"::warning file=pkg/odd%2Cname.py,line=6,col=5,endLine=6,endColumn=17,title=FT001::{RACY_MESSAGE} [confidence: medium]",
        f"::warning file=pkg/racy.py,line=6,col=5,endLine=6,endColumn=17,title=FT001::{RACY_MESSAGE} [confidence: medium]",
        "::error file=pkg/broken.py,title=ftmigrate::syntax error: invalid syntax (line 1, column 7)",
    ]


def test_github_annotations_after_apply_list_only_what_is_left(mixed):
    result = invoke("apply", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(",")[0] for line in lines] == ["::warning file=pkg/aio.py", "::error file=pkg/broken.py"]


def test_json_lines_findings_then_errors(mixed):
    result = invoke("scan", "--format", "json-lines")
    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["type"], o["path"]) for o in objects] == [
        ("finding", "pkg/aio.py"),
        ("finding", "pkg/racy.py"),
        ("error", "pkg/broken.py"),
    ]
    assert objects[1] == {
        "type": "finding", "rule": "FT001", "path": "pkg/racy.py", "line": 6, "column": 5, "end_line": 6,
        "end_column": 17, "message": RACY_MESSAGE, "fixable": True, "fixed": False,
        "confidence": "medium", "confidence_reason": "shared state changed by code that any thread may call",
    }
    assert objects[2]["message"].startswith("syntax error: ")


def test_json_lines_replaces_the_diff_with_apply_diff(project):
    result = invoke("apply", "--diff", "--format", "json-lines")
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["fixed"] is True  # would be fixed; nothing was written
    assert (project / "pkg" / "racy.py").read_text() == RACY


def test_statistics_text_and_json(mixed):
    (mixed / "pkg" / "more.py").write_text(RACY)
    result = invoke("scan", "--statistics")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "3\tFT001\t[*] global-read-modify-write",
        "Found 3 findings in 5 files (2 fixable with `ftmigrate apply`), 1 error.",
    ]
    assert invoke("scan", "--statistics", "--quiet").stdout.splitlines() == ["3\tFT001\t[*] global-read-modify-write"]
    data = json.loads(invoke("scan", "--statistics", "--format", "json").stdout)
    assert data == [{"code": "FT001", "name": "global-read-modify-write", "count": 3, "fixable": 2}]


def test_statistics_with_nothing_found(project):
    (project / "pkg" / "racy.py").unlink()
    result = invoke("scan", "--statistics")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["All checks passed: no findings in 1 file."]


def test_statistics_needs_text_or_json(project):
    result = invoke("scan", "--statistics", "--format", "sarif")
    assert result.exit_code == 2 and "--statistics works with --format text or json" in result.stderr


def test_exit_zero(mixed):
    findings_only = invoke("scan", "--exit-zero", "pkg/racy.py", "pkg/aio.py")
    assert findings_only.exit_code == 0
    assert "pkg/racy.py:6:5: FT001" in findings_only.stdout and "pkg/aio.py:6:5: FT001" in findings_only.stdout
    with_error = invoke("scan", "--exit-zero")
    assert with_error.exit_code == 1 and "error: pkg/broken.py" in with_error.stderr  # errors are not findings
    assert invoke("scan", "--exit-zero", "--select", "FT999").exit_code == 2  # usage errors stay errors


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("n = 0\ndef f():\n    global n\n    n += 1", id="no-final-newline"),
        pytest.param("n = 0\rdef f():\r    global n\r    n += 1\r", id="cr-only"),
        pytest.param('"""Doc."""\nn = 0\n\x0c\ndef f():\n    global n\n    n += 1\n', id="form-feed"),
    ],
)
def test_sarif_replacements_reproduce_apply_on_odd_line_endings(source):
    from ftmigrate.formats.sarif import replacements

    def offset_of(text: str, line: int, column: int) -> int:  # lines end at \r\n, \r or \n only
        starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r(?!\n)|\n", text)]
        return starts[line - 1] + column - 1

    expected = fixed_text(source)
    text = source
    for replacement in replacements(source, expected):
        region = replacement["deletedRegion"]
        start = offset_of(text, region["startLine"], region["startColumn"])
        end = offset_of(text, region["endLine"], region["endColumn"])
        text = text[:start] + replacement["insertedContent"]["text"] + text[end:]
    assert text == expected != source
