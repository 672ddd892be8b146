"""The README shows real output: its demo scan and its two set-up commands stay true."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_demo_scan_output_is_current(monkeypatch):
    monkeypatch.chdir(REPO)
    block = re.search(r"```console\n\$ ftmigrate scan testdata/demo\n(.*?)```", README, re.S).group(1)
    result = CliRunner().invoke(app, ["scan", "testdata/demo"])
    assert result.exit_code == 1
    assert result.stdout == block


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.S)
    assert commands == [
        "python3 -m pip install -e . && ftmigrate scan testdata/demo",
        'python3 -m pip install -e ".[test,dask]" && python3 -m pytest',
    ]
    assert commands[1] in (REPO / ".ci" / "run").read_text()
