"""`scan -` / `apply -` with --stdin-filename: source on stdin, for editor integrations."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.test_cli import AWAITS, CLEAN, FIXED, RACY, project  # noqa: F401  (project is a fixture)

MESSAGE = "`counter` (module state) is read, modified and written without a lock; concurrent threads lose updates"


def feed(data: bytes | str, *args: str):
    return CliRunner().invoke(app, list(args), input=data, catch_exceptions=False)


def test_scan_stdin_reports_under_the_given_filename(project):
    result = feed(RACY, "scan", "-", "--stdin-filename", "pkg/editor.py")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"pkg/editor.py:6:5: FT001 [*] {MESSAGE} [confidence: medium]",
        "Found 1 finding in 1 file (1 fixable with `ftmigrate apply`).",
    ]
    assert not (project / "pkg" / "editor.py").exists()


def test_scan_stdin_without_filename_and_in_json(project):
    result = feed(RACY, "scan", "-", "--format", "json")
    assert result.exit_code == 1
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["-"]
    assert feed(CLEAN, "scan", "-").exit_code == 0


def test_stdin_filename_alone_reads_stdin(project):
    result = feed(RACY, "scan", "--stdin-filename", "pkg/x.py", "--format", "json")
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["pkg/x.py"]


def test_apply_stdin_writes_the_fixed_source_to_stdout(project):
    result = feed(RACY, "apply", "-", "--stdin-filename", "pkg/racy.py")
    assert result.exit_code == 0
    assert result.stdout == FIXED
    assert (project / "pkg" / "racy.py").read_text() == RACY  # the file on disk is not touched


def test_apply_stdin_keeps_encoding_and_line_endings(project):
    source = b"# -*- coding: latin-1 -*-\r\n# caf\xe9\r\n" + RACY.replace("\n", "\r\n").encode()
    result = feed(source, "apply", "-")
    assert result.exit_code == 0
    out = result.stdout_bytes
    assert out.startswith(b"# -*- coding: latin-1 -*-\r\n# caf\xe9\r\nimport threading\r\n")
    assert b"with _counter_lock:\r\n" in out and b"\n" not in out.replace(b"\r\n", b"")


def test_apply_stdin_with_nothing_to_fix_echoes_the_source(project):
    result = feed(CLEAN, "apply", "-")
    assert result.exit_code == 0 and result.stdout == CLEAN


def test_apply_stdin_unfixable_reports_on_stderr_and_exits_1(project):
    result = feed(AWAITS, "apply", "-", "--stdin-filename", "pkg/aio.py")
    assert result.exit_code == 1
    assert result.stdout == AWAITS
    assert "pkg/aio.py:6:5: FT001" in result.stderr and "not fixed: the statement awaits" in result.stderr


def test_apply_stdin_syntax_error_keeps_the_source(project):
    broken = "def f(:\n    global n\n    n += 1\n"
    result = feed(broken, "apply", "-", "--stdin-filename", "pkg/broken.py")
    assert result.exit_code == 1
    assert result.stdout == broken
    assert "error: pkg/broken.py: syntax error: " in result.stderr


def test_apply_stdin_diff(project):
    result = feed(RACY, "apply", "-", "--diff", "--stdin-filename", "pkg/racy.py")
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/pkg/racy.py\n+++ b/pkg/racy.py\n@@ ")
    assert "+    with _counter_lock:\n" in result.stdout


def test_stdin_config_is_found_from_the_filename(project):
    (project / "sub").mkdir()
    (project / "sub" / "pyproject.toml").write_text('[tool.ftmigrate]\nignore = ["FT001"]\n')
    assert feed(RACY, "scan", "-", "--stdin-filename", "sub/x.py").exit_code == 0
    assert feed(RACY, "scan", "-", "--stdin-filename", "pkg/x.py").exit_code == 1


def test_stdin_usage_errors(project):
    mixed = feed(RACY, "scan", "-", "pkg")
    assert mixed.exit_code == 2 and "`-` (stdin) cannot be combined with other paths" in mixed.stderr
    named = feed(RACY, "scan", "pkg", "--stdin-filename", "x.py")
    assert named.exit_code == 2 and "--stdin-filename needs `-`" in named.stderr
