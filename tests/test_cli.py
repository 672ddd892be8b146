"""The CLI contract on real temp projects (typer's CliRunner), as users rely on it."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate import __version__
from ftmigrate.cli import app

RACY = textwrap.dedent(
    """\
    counter = 0


    def increment():
        global counter
        counter += 1
    """
)
FIXED = textwrap.dedent(
    """\
    import threading

    counter = 0
    _counter_lock = threading.Lock()


    def increment():
        global counter
        with _counter_lock:
            counter += 1
    """
)
CLEAN = "def f(x):\n    return x + 1\n"
AWAITS = "n = 0\n\n\nasync def f(s):\n    global n\n    n += await s.read()\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "racy.py").write_text(RACY)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_scan_reports_findings_and_exits_1(project):
    result = invoke("scan")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "pkg/racy.py:6:5: FT001 [*] `counter` (module state) is read, modified and written without a lock; "
        "concurrent threads lose updates [confidence: medium]",
        "Found 1 finding in 2 files (1 fixable with `ftmigrate apply`).",
    ]
    assert (project / "pkg" / "racy.py").read_text() == RACY  # scan never writes


def test_scan_clean_project_exits_0(project):
    (project / "pkg" / "racy.py").unlink()
    result = invoke("scan", ".")
    assert result.exit_code == 0
    assert result.stdout.strip() == "All checks passed: no findings in 1 file."


def test_apply_fixes_and_second_apply_is_a_no_op(project):
    result = invoke("apply")
    assert result.exit_code == 0
    assert "fixed pkg/racy.py (1 fix)" in result.stdout
    assert (project / "pkg" / "racy.py").read_text() == FIXED
    again = invoke("apply")
    assert again.exit_code == 0 and "fixed" not in again.stdout
    assert invoke("scan").exit_code == 0


def test_apply_exits_1_when_a_finding_cannot_be_fixed(project):
    (project / "pkg" / "aio.py").write_text(AWAITS)
    result = invoke("apply")
    assert result.exit_code == 1
    assert "pkg/aio.py:6:5: FT001" in result.stdout and "not fixed: the statement awaits" in result.stdout
    assert (project / "pkg" / "aio.py").read_text() == AWAITS
    assert (project / "pkg" / "racy.py").read_text() == FIXED


def test_json_output_schema(project):
    result = invoke("scan", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"version", "findings", "errors", "summary"}
    assert data["version"] == __version__
    assert data["findings"] == [
        {
            "rule": "FT001",
            "path": "pkg/racy.py",
            "line": 6,
            "column": 5,
            "end_line": 6,
            "end_column": 17,
            "message": "`counter` (module state) is read, modified and written without a lock; concurrent threads lose updates",
            "fixable": True,
            "fixed": False,
            "confidence": "medium",
            "confidence_reason": "shared state changed by code that any thread may call",
        }
    ]
    assert data["errors"] == []
    assert data["summary"] == {"files": 2, "findings": 1, "fixed": 0, "errors": 0}


def test_apply_json_reports_fixed(project):
    data = json.loads(invoke("apply", "--format", "json").stdout)
    assert data["summary"] == {"files": 2, "findings": 1, "fixed": 1, "errors": 0}
    assert data["findings"][0]["fixed"] is True


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_writes_nothing_and_applies_with_git(project):
    crlf = project / "pkg" / "crlf.py"
    crlf.write_bytes(RACY.replace("counter", "hits").replace("\n", "\r\n").encode())
    before = {p: p.read_bytes() for p in project.rglob("*.py")}
    result = invoke("apply", "--diff")
    assert result.exit_code == 1
    assert {p: p.read_bytes() for p in project.rglob("*.py")} == before  # nothing written
    patch = result.stdout_bytes
    assert patch.startswith(b"--- a/pkg/crlf.py\n+++ b/pkg/crlf.py\n")
    assert b"--- a/pkg/racy.py\n+++ b/pkg/racy.py\n" in patch
    assert b"Would fix 2 findings in 2 files" in result.stderr_bytes

    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "apply", "-p1", "--check", "-"], input=patch, check=True)
    subprocess.run(["git", "apply", "-p1", "-"], input=patch, check=True)
    assert (project / "pkg" / "racy.py").read_text() == FIXED
    assert b"\r\n" in crlf.read_bytes() and b"\n" not in crlf.read_bytes().replace(b"\r\n", b"")
    nothing = invoke("apply", "--diff")
    assert nothing.exit_code == 0 and nothing.stdout == ""


def test_syntax_error_file_next_to_good_one(project):
    broken = "def f(:\n    global n\n    n += 1\n"
    (project / "pkg" / "broken.py").write_text(broken)
    result = invoke("apply")
    assert result.exit_code == 1
    assert "error: pkg/broken.py: syntax error: " in result.stderr
    assert (project / "pkg" / "racy.py").read_text() == FIXED
    assert (project / "pkg" / "broken.py").read_text() == broken


def test_gitignore_skips_walked_files_but_not_named_ones(project):
    (project / ".gitignore").write_text("generated/\n")
    (project / "generated").mkdir()
    (project / "generated" / "racy.py").write_text(RACY)
    walked = invoke("scan", ".", "--format", "json")
    assert [f["path"] for f in json.loads(walked.stdout)["findings"]] == ["pkg/racy.py"]
    named = invoke("scan", "generated/racy.py", "--format", "json")
    assert [f["path"] for f in json.loads(named.stdout)["findings"]] == ["generated/racy.py"]
    unignored = invoke("scan", ".", "--no-gitignore", "--format", "json")
    assert len(json.loads(unignored.stdout)["findings"]) == 2


def test_default_excludes_and_virtualenvs(project):
    for folder in ("build", "node_modules", ".tox", "myenv"):
        (project / folder).mkdir()
        (project / folder / "racy.py").write_text(RACY)
    (project / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    result = invoke("scan", "--format", "json")
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["pkg/racy.py"]


def test_config_exclude_select_and_cli_override(project):
    (project / "legacy").mkdir()
    (project / "legacy" / "racy.py").write_text(RACY)
    (project / "pyproject.toml").write_text('[tool.ftmigrate]\nexclude = ["legacy"]\n')
    result = invoke("scan", "--format", "json")
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["pkg/racy.py"]
    explicit = invoke("scan", "legacy/racy.py", "--format", "json")
    assert [f["path"] for f in json.loads(explicit.stdout)["findings"]] == ["legacy/racy.py"]
    (project / "pyproject.toml").write_text('[tool.ftmigrate]\nignore = ["FT001"]\n')
    assert invoke("scan").exit_code == 0
    assert invoke("scan", "--select", "FT001").exit_code == 1
    assert invoke("scan", "--select", "FT", "--ignore", "FT001").exit_code == 0


@pytest.mark.parametrize(
    "config, message",
    [
        ('[tool.ftmigrate]\nselct = ["FT001"]\n', "unknown key 'selct'"),
        ("[tool.ftmigrate\n", "invalid TOML"),
        ('[tool.ftmigrate]\nselect = "FT001"\n', "select must be a list of strings"),
        ('[tool.ftmigrate]\nselect = ["FT999"]\n', "unknown rule code or prefix 'FT999'"),
    ],
)
def test_bad_config_exits_2(project, config, message):
    (project / "pyproject.toml").write_text(config)
    result = invoke("scan")
    assert result.exit_code == 2
    assert message in result.stderr


def test_unknown_rule_on_command_line_exits_2(project):
    result = invoke("scan", "--select", "FT999")
    assert result.exit_code == 2 and "unknown rule code or prefix 'FT999'" in result.stderr


def test_unknown_option_is_a_usage_error(project):
    assert invoke("scan", "--bogus").exit_code == 2


def test_missing_path_is_a_per_file_error(project):
    result = invoke("scan", "nope.py", "pkg")
    assert result.exit_code == 1
    assert "error: nope.py: no such file or directory" in result.stderr
    assert "pkg/racy.py:6:5: FT001" in result.stdout


def test_suppression_comment(project):
    (project / "pkg" / "racy.py").write_text(RACY.replace("counter += 1", "counter += 1  # ftmigrate: ignore[FT001]"))
    assert invoke("scan").exit_code == 0
    (project / "pkg" / "racy.py").write_text(RACY.replace("counter += 1", "counter += 1  # ftmigrate: ignore[FT002]"))
    assert invoke("scan").exit_code == 1


def test_version_and_help():
    assert invoke("--version").stdout.strip() == f"ftmigrate {__version__}"
    help_text = invoke("--help").stdout
    assert "scan" in help_text and "apply" in help_text
    apply_help = invoke("apply", "--help").stdout
    for option in ("--diff", "--select", "--ignore", "--exclude", "--format", "--config", "--no-gitignore"):
        assert option in apply_help


def test_permissions_and_encoding_kept(project):
    path = project / "pkg" / "latin.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + RACY.encode())
    path.chmod(0o640)
    assert invoke("apply", "pkg/latin.py").exit_code == 0
    assert path.stat().st_mode & 0o777 == 0o640
    data = path.read_bytes()
    assert data.startswith(b"# -*- coding: latin-1 -*-\n# caf\xe9\n")
    assert b"with _counter_lock:" in data


def test_a_scan_with_errors_and_no_findings_does_not_say_all_checks_passed(project):
    (project / "pkg" / "racy.py").write_text("x = 1\n")
    (project / "pkg" / "broken.py").write_text("def f(:\n    global n\n    n += 1\n")
    result = invoke("scan")
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1] == "No findings in 3 files, 1 error."
