"""What a terminal user sees: the progress bar, --quiet, --verbose and colour diffs.

CliRunner's streams are not terminals; FORCE_COLOR=1 makes ftmigrate treat them as one,
and NO_COLOR turns colour off again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ftmigrate.progress import PROGRESS_MIN_FILES
from ftmigrate.terminal import BOLD, CYAN, GREEN, RED, RESET, colorize_diff
from tests.test_cli import FIXED, RACY, invoke, project  # noqa: F401  (project is a fixture)


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)


def many_files(root: Path, count: int) -> None:
    (root / "many").mkdir()
    for i in range(count):
        (root / "many" / f"m{i:04}.py").write_text(f"value = {i}\n")


def test_progress_bar_on_a_terminal_for_big_runs(tmp_path, monkeypatch, terminal):
    monkeypatch.chdir(tmp_path)
    many_files(tmp_path, PROGRESS_MIN_FILES + 1)
    result = invoke("scan", ".")
    assert result.exit_code == 0
    assert "Checking" in result.stderr and f"{PROGRESS_MIN_FILES + 1}/{PROGRESS_MIN_FILES + 1}" in result.stderr
    assert result.stdout == f"All checks passed: no findings in {PROGRESS_MIN_FILES + 1} files.\n"


def test_no_progress_bar_for_small_runs_when_piped_or_quiet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    many_files(tmp_path, PROGRESS_MIN_FILES + 1)
    assert invoke("scan", ".").stderr == ""  # not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    quiet = invoke("scan", ".", "--quiet")
    assert quiet.stderr == "" and quiet.stdout == ""
    (tmp_path / "many" / "m0000.py").unlink()
    assert invoke("scan", ".").stderr == ""  # exactly PROGRESS_MIN_FILES files: no bar


def test_quiet_prints_only_findings_and_errors(project):
    (project / "pkg" / "broken.py").write_text("def f(:\n    global n\n    n += 1\n")
    scan = invoke("scan", "-q")
    assert scan.exit_code == 1
    assert scan.stdout.splitlines() == [
        "pkg/racy.py:6:5: FT001 [*] `counter` (module state) is read, modified and written without a lock; "
        "concurrent threads lose updates [confidence: medium]"
    ]
    assert scan.stderr.startswith("error: pkg/broken.py: syntax error")
    diff = invoke("apply", "--diff", "--quiet")
    assert diff.stdout.startswith("--- a/pkg/racy.py") and "Would fix" not in diff.stderr
    applied = invoke("apply", "--quiet", "pkg/racy.py")
    assert applied.exit_code == 0 and applied.stdout == "" and applied.stderr == ""
    assert (project / "pkg" / "racy.py").read_text() == FIXED


def test_verbose_prints_config_rules_and_one_line_per_file(project):
    (project / "pyproject.toml").write_text("[tool.ftmigrate]\n")
    result = invoke("apply", "--verbose")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[0] == f"config: {project / 'pyproject.toml'}"
    assert lines[1].startswith("rules: FT001")
    assert lines[2:] == ["checking 2 files", "pkg/clean.py: no findings", "pkg/racy.py: 1 finding, 1 fixed"]
    assert result.stdout.splitlines() == ["fixed pkg/racy.py (1 fix)", "Fixed 1 finding in 1 file; 0 remaining."]


def test_quiet_and_verbose_exclude_each_other(project):
    result = invoke("scan", "-q", "-v")
    assert result.exit_code == 2 and "--quiet and --verbose exclude each other" in result.stderr


def test_diff_is_coloured_on_a_terminal(project, terminal):
    result = invoke("apply", "--diff")
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith(f"{BOLD}--- a/pkg/racy.py{RESET}\n{BOLD}+++ b/pkg/racy.py{RESET}\n{CYAN}@@ -1,6 +1,10 @@{RESET}\n")
    assert f"{GREEN}+import threading{RESET}\n" in out
    assert f"{RED}-    counter += 1{RESET}\n" in out
    assert "\n     global counter\n" in out  # context lines stay plain
    assert (project / "pkg" / "racy.py").read_text() == RACY


def test_diff_is_plain_when_piped_or_no_color(project, monkeypatch):
    plain = invoke("apply", "--diff").stdout
    assert "\x1b[" not in plain and plain.startswith("--- a/pkg/racy.py\n")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    assert invoke("apply", "--diff").stdout == plain


def test_colorize_diff_follows_hunk_counts_and_keeps_crlf():
    diff = b"--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n--- removed\r\n+++ added\r\n \\ No newline\n"
    assert colorize_diff(diff).decode() == (
        f"{BOLD}--- a/x.py{RESET}\n{BOLD}+++ b/x.py{RESET}\n{CYAN}@@ -1,2 +1,2 @@{RESET}\n"
        f"{RED}--- removed{RESET}\r\n{GREEN}+++ added{RESET}\r\n \\ No newline\n"
    )
