"""Hostile and odd input through the real CLI: every bad file gives one clear line
``error: <path>: <reason>`` on stderr (or is kept byte for byte), the good file next to it
is still fixed, and the exit code is right (1 when any file had an error)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ftmigrate.runner
from ftmigrate.cli import app
from ftmigrate.parsing import MAX_PARSE_BYTES
from tests.conftest import REPO

RACY = "counter = 0\n\ndef bump():\n    global counter\n    counter += 1\n"
FIXED = (
    "import threading\n\ncounter = 0\n_counter_lock = threading.Lock()\n\n"
    "def bump():\n    global counter\n    with _counter_lock:\n        counter += 1\n"
)


def cli(*args: str):
    """Run the CLI in-process; stdout and stderr apart (click >= 8.2 keeps them apart)."""
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A temp project holding one file that needs a fix; paths print relative to it."""
    (tmp_path / "good.py").write_text(RACY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_good_file_fixed(project: Path) -> None:
    assert (project / "good.py").read_text() == FIXED


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


# name -> (bytes of odd.py, the error line for it or None, what odd.py holds afterwards)
# ``None`` afterwards: unchanged.
CASES = {
    "syntax_error": (
        # (it must pass a rule's prefilter: a file no rule can match is not parsed)
        b"def broken(:\n    global counter\n    counter += 1\n",
        "error: odd.py: syntax error: ",
        None,
    ),
    "undecodable_without_cookie": (
        b'counter = 0\nname = "caf\xe9"\n',
        "error: odd.py: cannot decode as utf-8 and there is no coding declaration (PEP 263): byte 0xe9 at line 2",
        None,
    ),
    "unknown_encoding_in_cookie": (
        b"# -*- coding: klingon -*-\ncounter = 0\n",
        "error: odd.py: unknown encoding 'klingon' in the coding declaration",
        None,
    ),
    "bom_contradicting_cookie": (
        b"\xef\xbb\xbf# coding: latin-1\ncounter = 0\n",
        "error: odd.py: the UTF-8 byte order mark contradicts the coding declaration 'latin-1'",
        None,
    ),
    "binary_file": (
        bytes(range(256)) * 8,
        "error: odd.py: binary file (contains NUL bytes), not Python source",
        None,
    ),
    "form_feed_in_indentation": (
        # CPython resets the indentation at a form feed; LibCST drops it: not rewritten.
        RACY.replace("    counter += 1", "\f    counter += 1").encode(),
        "error: odd.py: not rewritten: LibCST does not reproduce line 5 byte for byte (a form feed in the indentation)",
        None,
    ),
    "lone_cr_line_endings": (
        # Old Mac line endings: LibCST alone would drop the last one (see parsing.parse_cst).
        RACY.replace("\n", "\r").encode(),
        None,
        FIXED.replace("\n", "\r").encode(),
    ),
    "latin1_with_cookie": (
        ("# -*- coding: latin-1 -*-\n" + RACY + 'name = "café"\n').encode("latin-1"),
        None,
        ("# -*- coding: latin-1 -*-\n" + FIXED + 'name = "café"\n').encode("latin-1"),
    ),
    "utf8_bom": (
        b"\xef\xbb\xbf" + RACY.encode(),
        None,
        b"\xef\xbb\xbf" + FIXED.encode(),
    ),
    "crlf": (
        RACY.replace("\n", "\r\n").encode(),
        None,
        FIXED.replace("\n", "\r\n").encode(),
    ),
    "mixed_line_endings": (
        b"counter = 0\r\n\r\ndef bump():\n    global counter\r\n    counter += 1\n",
        None,
        # New lines take the file's first line ending; existing lines keep their own.
        b"import threading\r\n\r\ncounter = 0\r\n_counter_lock = threading.Lock()\r\n\r\n"
        b"def bump():\n    global counter\r\n    with _counter_lock:\r\n        counter += 1\n",
    ),
    "tabs": (
        RACY.replace("    ", "\t").encode(),
        None,
        FIXED.replace("    ", "\t").encode(),
    ),
    "form_feed_between_statements": (
        RACY.replace("\ndef", "\f\ndef").encode(),
        None,
        FIXED.replace("\ndef", "\f\ndef").encode(),
    ),
    "deeply_nested_string_concatenation": (
        # LibCST recurses once per piece: needs the engine's deep-stack retry.
        (RACY + "TEXT = (\n" + '    "piece"\n' * 2500 + ")\n").encode(),
        None,
        (FIXED + "TEXT = (\n" + '    "piece"\n' * 2500 + ")\n").encode(),
    ),
    "empty_file": (b"", None, None),
    "no_final_newline": (RACY.removesuffix("\n").encode(), None, FIXED.removesuffix("\n").encode()),
}


@pytest.mark.parametrize("name", CASES)
def test_odd_file_next_to_a_good_one(project: Path, name: str):
    content, error, after = CASES[name]
    odd = project / "odd.py"
    odd.write_bytes(content)
    result = cli("apply", ".")
    if error is None:
        assert error_lines(result) == []
        assert result.exit_code == 0, result.output
    else:
        [line] = error_lines(result)
        assert line.startswith(error), line
        assert result.exit_code == 1
    assert odd.read_bytes() == (content if after is None else after)
    assert_good_file_fixed(project)
    if error is None:
        compile(odd.read_bytes(), "odd.py", "exec")


def test_syntax_error_in_a_file_no_rule_can_match_is_kept_without_an_error(project: Path):
    """The prefilter: a file without any rule's tokens is not parsed, so nothing can be
    wrong with it as far as ftmigrate is concerned; its bytes are kept exactly."""
    odd = project / "odd.py"
    odd.write_bytes(b"def broken(:\n")
    result = cli("apply", ".")
    assert error_lines(result) == [] and result.exit_code == 0
    assert odd.read_bytes() == b"def broken(:\n"
    assert_good_file_fixed(project)


def test_code_that_makes_the_compiler_warn_is_fixed_without_printing_warnings(project: Path, recwarn):
    (project / "odd.py").write_text(RACY + "    if counter is 1:\n        print('\\d')\n")
    result = cli("apply", ".")
    assert result.exit_code == 0 and result.stderr == ""
    assert [str(w.message) for w in recwarn] == []
    assert (project / "odd.py").read_text() == FIXED.replace("counter += 1\n", "counter += 1\n    if counter is 1:\n        print('\\d')\n")
    assert_good_file_fixed(project)


def _big_module(needs_parsing: bool) -> bytes:
    # No rule's prefilter token (operators, " in ", "None", ...) occurs in the chunk.
    chunk = "def f{0}(a, b):\n    return [a, b, {0}, 'padding that makes the file big enough']\n\n"
    lines, size, i = [], 0, 0
    while size < 10 * 1024 * 1024:
        lines.append(chunk.format(i))
        size += len(lines[-1])
        i += 1
    if needs_parsing:
        lines.append(RACY)
    return "".join(lines).encode()


def test_ten_megabyte_file_without_rule_tokens_is_kept(project: Path):
    big = project / "big.py"
    big.write_bytes(_big_module(needs_parsing=False))
    assert big.stat().st_size > MAX_PARSE_BYTES
    before = big.read_bytes()
    result = cli("apply", ".")
    assert error_lines(result) == [] and result.exit_code == 0
    assert big.read_bytes() == before
    assert_good_file_fixed(project)


def test_ten_megabyte_file_to_analyse_is_refused_with_its_size(project: Path):
    big = project / "big.py"
    big.write_bytes(_big_module(needs_parsing=True))
    before = big.read_bytes()
    result = cli("apply", ".")
    assert error_lines(result) == ["error: big.py: too large to analyse: 10.0 MiB (the limit is 2 MiB)"]
    assert result.exit_code == 1
    assert big.read_bytes() == before
    assert_good_file_fixed(project)


def test_read_only_file_that_needs_a_fix_is_reported_and_kept(project: Path):
    ro = project / "ro.py"
    ro.write_text(RACY)
    ro.chmod(0o444)
    result = cli("apply", ".")
    assert error_lines(result) == ["error: ro.py: file is read-only; not written"]
    assert "ro.py:5:5: FT001" in result.stdout and "(not fixed: the file was not written)" in result.stdout
    assert result.exit_code == 1
    assert ro.read_text() == RACY and stat.S_IMODE(ro.stat().st_mode) == 0o444
    assert_good_file_fixed(project)


def test_symlink_loop_and_dangling_symlink(project: Path):
    (project / "loop1.py").symlink_to("loop2.py")
    (project / "loop2.py").symlink_to("loop1.py")
    (project / "dangling.py").symlink_to("nowhere.py")
    result = cli("apply", ".")
    assert error_lines(result) == [
        "error: dangling.py: cannot read: dangling symbolic link (its target nowhere.py does not exist)",
        "error: loop1.py: cannot read: symbolic link loop",
        "error: loop2.py: cannot read: symbolic link loop",
    ]
    assert result.exit_code == 1
    assert os.readlink("loop1.py") == "loop2.py" and os.readlink("dangling.py") == "nowhere.py"
    assert_good_file_fixed(project)


def test_symlink_loop_and_dangling_symlink_named_explicitly(project: Path):
    (project / "loop1.py").symlink_to("loop2.py")
    (project / "loop2.py").symlink_to("loop1.py")
    (project / "dangling.py").symlink_to("nowhere.py")
    result = cli("apply", "loop1.py", "dangling.py", "good.py")
    assert error_lines(result) == [
        "error: loop1.py: symbolic link loop",
        "error: dangling.py: dangling symbolic link (its target nowhere.py does not exist)",
    ]
    assert result.exit_code == 1
    assert_good_file_fixed(project)


def test_symlink_to_a_file_that_needs_a_fix_is_written_through(project: Path):
    (project / "real").mkdir()
    (project / "real" / "target.py").write_text(RACY)
    (project / "link.py").symlink_to(Path("real") / "target.py")
    result = cli("apply", "link.py", "good.py")
    assert error_lines(result) == [] and result.exit_code == 0
    assert (project / "link.py").is_symlink()
    assert (project / "real" / "target.py").read_text() == FIXED
    assert_good_file_fixed(project)


def test_path_that_does_not_exist(project: Path):
    result = cli("apply", "missing.py", "good.py")
    assert error_lines(result) == ["error: missing.py: no such file or directory"]
    assert result.exit_code == 1
    assert_good_file_fixed(project)


def test_directory_named_like_a_python_file_is_walked(project: Path):
    folder = project / "pkg.py"
    folder.mkdir()
    (folder / "inner.py").write_text(RACY)
    result = cli("apply", ".")
    assert error_lines(result) == [] and result.exit_code == 0
    assert (folder / "inner.py").read_text() == FIXED
    assert_good_file_fixed(project)


def test_fifo_named_like_a_python_file_does_not_block_the_run(project: Path):
    os.mkfifo(project / "pipe.py")
    result = cli("apply", ".")
    assert error_lines(result) == ["error: pipe.py: not a regular file (a FIFO, socket or device)"]
    assert result.exit_code == 1
    assert_good_file_fixed(project)


def test_file_changed_between_read_and_write_is_not_overwritten(project: Path, monkeypatch):
    """Someone saves the file while ftmigrate works on it: their edit wins, the write is
    refused for that file only."""
    edited = RACY + "# saved by the user meanwhile\n"
    (project / "busy.py").write_text(RACY)
    real_write = ftmigrate.runner.write_atomic

    def write_after_a_concurrent_edit(source, new_text, *roots):
        if source.path.name == "busy.py":
            source.path.write_text(edited)
        real_write(source, new_text, *roots)

    monkeypatch.setattr(ftmigrate.runner, "write_atomic", write_after_a_concurrent_edit)
    result = cli("apply", ".")
    assert error_lines(result) == ["error: busy.py: file changed on disk while it was processed; not written"]
    assert result.exit_code == 1
    assert (project / "busy.py").read_text() == edited
    assert_good_file_fixed(project)
    # No temp file left (the results cache, which every run may create, aside).
    assert sorted(p.name for p in project.iterdir() if p.name != ".ftmigrate_cache") == ["busy.py", "good.py"]


def _without_file_read_permission() -> list[str] | None:
    """A command prefix under which a mode-000 file cannot be read, or None.

    Root reads a mode-000 file anyway (CAP_DAC_OVERRIDE); dropping that capability (and
    CAP_DAC_READ_SEARCH) from the bounding set with setpriv makes the permission bits count
    again, while the process keeps uid 0 and so can still reach the interpreter."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def test_file_without_read_permission(project: Path):
    prefix = _without_file_read_permission()
    if prefix is None:
        pytest.skip("running as root without setpriv (or without CAP_SETPCAP): root can read a mode-000 file")
    secret = project / "secret.py"
    secret.write_text(RACY)
    secret.chmod(0)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "ftmigrate", "apply", "."], cwd=project, env=env, capture_output=True, text=True
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: secret.py: cannot read: permission denied"], proc.stderr
    assert proc.returncode == 1
    secret.chmod(0o644)
    assert secret.read_text() == RACY
    assert_good_file_fixed(project)
