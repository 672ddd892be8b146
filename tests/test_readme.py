"""The README shows real output: the command outputs it shows, its JSON example and its two
set-up commands stay true."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from ftmigrate import __version__
from ftmigrate.cli import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


# Every command output the README shows: a ```console block that starts with `$ ftmigrate ...`,
# or a block right after a sentence ending in "`ftmigrate ...` prints:".
SHOWN = [
    *re.findall(r"```console\n\$ ftmigrate ([^\n]*)\n(.*?)```", README, re.S),
    *re.findall(r"`ftmigrate ([^`]*)` prints:\n\n```\w*\n(.*?)```", README, re.S),
]


def test_readme_shows_the_demo_scan_and_diff():
    assert [command for command, _ in SHOWN] == ["scan testdata/demo", "apply --diff testdata/demo/shop/stats.py"]


@pytest.mark.parametrize("command, shown", SHOWN, ids=[c for c, _ in SHOWN])
def test_readme_command_output_is_current(command: str, shown: str, monkeypatch):
    """Run from the repository root, as the README's commands are; on failure, paste the
    real output (printed) into README.md."""
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, [*command.split(), "--no-cache"])
    print(result.stdout)
    assert result.exit_code == 1  # both have findings / a diff
    assert result.stdout == shown


def test_readme_json_example_has_the_real_keys(monkeypatch):
    """The JSON example abbreviates messages with "...", so its shape is compared: the keys of
    the report, of a finding, of an error and of the summary, and the version."""
    monkeypatch.chdir(REPO)
    example = json.loads(re.search(r"```json\n(.*?)```", README, re.S).group(1))
    result = CliRunner().invoke(app, ["scan", "--format", "json", "--no-cache", "testdata/demo", "README.md"])
    real = json.loads(result.stdout)
    assert list(real) == list(example)
    assert real["version"] == example["version"] == __version__
    assert list(real["findings"][0]) == list(example["findings"][0])
    assert list(real["errors"][0]) == list(example["errors"][0])
    assert list(real["summary"]) == list(example["summary"])


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.S)
    assert commands == [
        "python3 -m pip install -e . && ftmigrate scan testdata/demo",
        'python3 -m pip install -e ".[test,dask]" && python3 -m pytest',
    ]
    assert commands[1] in (REPO / ".ci" / "run").read_text()


def test_files_the_docs_name_exist():
    """Every repository file (tests/, scripts/, benchmarks/, ftmigrate/, codemods/, testdata/,
    with an extension) that README.md or a README under testdata/ names is there."""
    docs = [REPO / "README.md", *sorted((REPO / "testdata").glob("**/README.md"))]
    pattern = re.compile(r"(?<![\w/.])((?:tests|scripts|benchmarks|ftmigrate|codemods|testdata)/[\w./-]*\.[a-z]+)\b")
    named = {(doc.relative_to(REPO).as_posix(), path) for doc in docs for path in pattern.findall(doc.read_text())}
    assert len(named) >= 10
    assert [(doc, path) for doc, path in sorted(named) if not (REPO / path).exists()] == []
