"""The pipeline parses with LibCST only to write a fix (issue 15,
item 1): ``scan`` never does, ``apply`` only for a file with a fixable finding."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.test_cli import AWAITS, CLEAN, FIXED, RACY



@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "racy.py").write_text(RACY)
    (tmp_path / "clean.py").write_text(CLEAN + "global_state = 1  # global\n")  # passes the text prefilter
    (tmp_path / "aio.py").write_text(AWAITS)  # a finding without a fix
    return tmp_path


@pytest.fixture
def libcst_parses(monkeypatch) -> list[int]:
    """The length of every text LibCST parses from now on."""
    parsed: list[int] = []
    real = cst.parse_module

    def counting(source, *args, **kwargs):
        parsed.append(len(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(cst, "parse_module", counting)
    return parsed


def run(*args: str):
    return CliRunner().invoke(app, [*args, "--no-cache", "--jobs", "1"], catch_exceptions=False)


def test_scan_reports_fixes_and_their_safety_without_parsing_with_libcst(project, libcst_parses):
    result = run("scan", "--format", "json", "--min-confidence", "low", ".")
    assert result.exit_code == 1
    assert libcst_parses == []
    assert '"fixable": true' in result.stdout and '"fix_safety": "safe"' in result.stdout


def test_apply_parses_only_the_file_it_fixes(project, libcst_parses):
    result = run("apply", ".")
    assert result.exit_code == 1  # aio.py's finding is left
    assert libcst_parses == [len(RACY)]
    assert (project / "racy.py").read_text() == FIXED
    assert (project / "aio.py").read_text() == AWAITS
