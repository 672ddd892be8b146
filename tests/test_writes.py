"""Writes: atomic (temp file + os.replace), mode, owner and encoding kept; an `apply`
interrupted with SIGINT leaves every file old or new, never partial, and no temp file;
two `apply` runs on the same tree at once leave valid, idempotent output."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ftmigrate.sourcefile as sourcefile
from ftmigrate.sourcefile import TEMP_SUFFIX, SourceError, read_source, write_atomic
from tests.conftest import REPO
from tests.helpers import fixed_text

RACY = "counter = 0\n\ndef bump():\n    global counter\n    counter += 1\n"
FIXED = fixed_text(RACY)


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ftmigrate", *args]


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


# --- write_atomic on its own ------------------------------------------------------------


def test_mode_owner_and_encoding_are_kept(tmp_path: Path):
    path = tmp_path / "mod.py"
    path.write_bytes("# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1"))
    path.chmod(0o751)
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)
    source = read_source(path)
    write_atomic(source, source.text + "x = 'ü'\n")
    assert path.read_bytes() == "# -*- coding: latin-1 -*-\nname = 'café'\nx = 'ü'\n".encode("latin-1")
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o751
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert temp_files(tmp_path) == []


def test_the_file_is_replaced_not_rewritten_in_place(tmp_path: Path):
    """A reader holding the old file open keeps reading the complete old content."""
    path = tmp_path / "mod.py"
    path.write_text(RACY)
    source = read_source(path)
    with open(path, "rb") as reader:
        write_atomic(source, FIXED)
        assert reader.read() == RACY.encode()
    assert path.read_text() == FIXED


@pytest.mark.parametrize("failing", ["fsync", "chmod", "replace"])
def test_a_failure_or_interrupt_mid_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch, failing):
    path = tmp_path / "mod.py"
    path.write_text(RACY)
    source = read_source(path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sourcefile.os, failing, interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(source, FIXED)
    assert path.read_text() == RACY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mod.py"]


def test_ctrl_c_during_the_write_is_delivered_after_it(tmp_path: Path, monkeypatch):
    """SIGINT arriving between creating the temp file and replacing the original is held
    back until the new file is in place: the write completes, then Ctrl-C stops the run."""
    path = tmp_path / "mod.py"
    path.write_text(RACY)
    source = read_source(path)
    real_fsync = os.fsync

    def fsync_then_ctrl_c(fd):
        real_fsync(fd)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(sourcefile.os, "fsync", fsync_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(source, FIXED)
    assert path.read_text() == FIXED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mod.py"]


def test_a_file_changed_since_it_was_read_is_not_replaced(tmp_path: Path):
    path = tmp_path / "mod.py"
    path.write_text(RACY)
    source = read_source(path)
    path.write_text(RACY + "# edited\n")
    with pytest.raises(SourceError, match="^file changed on disk while it was processed; not written$"):
        write_atomic(source, FIXED)
    assert path.read_text() == RACY + "# edited\n"
    assert temp_files(tmp_path) == []


# --- whole runs in subprocesses --------------------------------------------------------

FUNCTIONS_PER_FILE = 120


def _tree(folder: Path, files: int) -> tuple[dict[Path, bytes], dict[Path, bytes]]:
    """``files`` racy modules, slow enough to check that a run can be stopped halfway;
    returns (old, expected new) content per file."""
    template = "# module 0000\ncounter = 0\n" + "".join(
        f"\ndef bump_{i}(step):\n    global counter\n    counter += step * {i}\n" for i in range(FUNCTIONS_PER_FILE)
    )
    template_fixed = fixed_text(template)
    folder.mkdir()
    old, new = {}, {}
    for k in range(files):
        path = folder / f"mod_{k:04d}.py"
        old[path] = template.replace("0000", f"{k:04d}", 1).encode()
        new[path] = template_fixed.replace("0000", f"{k:04d}", 1).encode()
        path.write_bytes(old[path])
    return old, new


def test_sigint_leaves_every_file_old_or_new(tmp_path: Path):
    old, new = _tree(tmp_path / "tree", files=40)
    first = min(old)
    proc = subprocess.Popen(cli_command("apply", "tree"), cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while first.read_bytes() == old[first] and proc.poll() is None:
            time.sleep(0.01)  # wait for the first write, then interrupt
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        proc.kill()
    states = {path: ("new" if path.read_bytes() == new[path] else "old" if path.read_bytes() == old[path] else "partial") for path in old}
    assert "partial" not in states.values()
    assert list(states.values()).count("new") >= 1 and list(states.values()).count("old") >= 1, states
    assert temp_files(tmp_path) == []
    assert sorted(states) == sorted((tmp_path / "tree").iterdir())
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "ftmigrate: interrupted; files are either rewritten or untouched, none half-written"
    # A second run finishes the job.
    rerun = subprocess.run(cli_command("apply", "tree"), cwd=tmp_path, env=cli_env(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert all(path.read_bytes() == new[path] for path in old)


def test_two_concurrent_applies_leave_valid_idempotent_output(tmp_path: Path):
    """What is guaranteed: each file ends up as the one correct rewrite (a run that finds
    the file changed by the other refuses to write it and says so), no temp file is left,
    and a third apply has nothing to do."""
    old, new = _tree(tmp_path / "tree", files=12)
    procs = [
        subprocess.Popen(cli_command("apply", "tree"), cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=900) for proc in procs]
    refused = re.compile(r"^error: tree/mod_\d{4}\.py: file changed on disk while it was processed; not written$")
    for proc, (stdout, stderr) in zip(procs, outputs):
        assert proc.returncode in (0, 1), stderr
        assert all(refused.match(line) for line in stderr.splitlines()), stderr
        assert (proc.returncode == 1) == bool(stderr.splitlines())
    print("refused writes per run:", [len(stderr.splitlines()) for _, stderr in outputs])
    for path in old:
        assert path.read_bytes() == new[path], path
        compile(path.read_bytes(), str(path), "exec")
    assert temp_files(tmp_path) == []
    third = subprocess.run(cli_command("apply", "tree"), cwd=tmp_path, env=cli_env(), capture_output=True, text=True)
    assert (third.returncode, third.stderr) == (0, "")
    assert third.stdout.splitlines()[-1] == "Fixed 0 findings in 0 files; 0 remaining."
    assert all(path.read_bytes() == new[path] for path in old)
