"""scripts/selfcheck.py: every registered rule round-trips real code (a fixed sample of the
standard library here; the whole library by hand), and the checker itself catches each
kind of failure it claims to catch."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

import ftmigrate.verify
from codemods import ALL_RULES
from tests.conftest import REPO
import ftmigrate.engine
from tests.helpers import fixed_text, load_script

selfcheck = load_script("selfcheck")

SAMPLE_SIZE = 300
SAMPLE_MAX_BYTES = 30_000  # LibCST takes about a second per 50 KB; keeps the test near a minute

RACY = "counter = 0\n\ndef bump():\n    global counter\n    counter += 1\n"


def stdlib_sample() -> tuple[Path, list[Path]]:
    """SAMPLE_SIZE standard library files, the same on every run of this interpreter:
    ordered by a hash of their relative path, files that no rule can match (only checked
    to stay byte-identical) at most two thirds of the sample."""
    root = selfcheck.default_path()
    files = selfcheck.python_files(root, selfcheck.SKIPPED_FOLDERS | {"site-packages"})
    files = [f for f in files if f.stat().st_size <= SAMPLE_MAX_BYTES]
    files.sort(key=lambda f: hashlib.sha256(f.relative_to(root).as_posix().encode()).hexdigest())
    tokens = [t.encode() for rule in ALL_RULES for t in rule.tokens]
    matching = [f for f in files if any(t in f.read_bytes() for t in tokens)]
    others = [f for f in files if f not in set(matching)]
    chosen = matching[: SAMPLE_SIZE // 3]
    chosen += others[: SAMPLE_SIZE - len(chosen)]
    chosen += matching[SAMPLE_SIZE // 3 :][: SAMPLE_SIZE - len(chosen)]  # when few match no rule
    return root, sorted(chosen)


def test_stdlib_sample_round_trips_with_every_rule():
    root, files = stdlib_sample()
    assert len(files) == SAMPLE_SIZE
    report = selfcheck.selfcheck(files, base=root)
    print(selfcheck.table(report))
    assert report.counts() == {"crash": 0, "compile": 0, "ast": 0, "idempotent": 0, "import": 0}, selfcheck.table(report)
    assert report.files == SAMPLE_SIZE
    assert report.changed >= 1  # the sample exercises the rewrite, not only the scan


@pytest.fixture
def racy_file(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    path = folder / "racy.py"
    path.write_text(RACY)
    return path


def _only_failure(report) -> tuple[str, str]:
    [failure] = report.failures
    return failure.check, failure.detail


def test_clean_rewrite_passes(racy_file: Path):
    report = selfcheck.selfcheck([racy_file])
    assert (report.files, report.changed, report.failures) == (1, 1, [])
    assert racy_file.read_text() == RACY  # the checker works on a copy


def test_crash_is_caught(racy_file: Path, monkeypatch):
    def boom(self, ctx):
        raise ValueError("rule bug")

    monkeypatch.setattr(ALL_RULES[0], "check", boom)
    check, detail = _only_failure(selfcheck.selfcheck([racy_file]))
    assert check == "crash" and detail == "internal error: ValueError: rule bug"


def _replace_fix_outcome(monkeypatch, edit):
    """Make the engine's planner return ``edit(original, rewritten)`` (LibCST modules)
    instead of its real rewrite."""
    engine = ftmigrate.engine
    real = engine.apply_fixes

    def tampered(ctx, *args, **kwargs):
        outcome = real(ctx, *args, **kwargs)
        original = args[0]  # LibCST's module of the file
        if original is not None:  # None: planning without writing (no LibCST tree)
            outcome.module = edit(original, outcome.module)
        return outcome

    monkeypatch.setattr(engine, "apply_fixes", tampered)


def test_output_that_does_not_compile_is_caught(racy_file: Path, monkeypatch):
    _replace_fix_outcome(monkeypatch, lambda old, new: new.with_changes(body=[*new.body, cst.parse_statement("return 1\n")]))
    check, detail = _only_failure(selfcheck.selfcheck([racy_file]))
    assert check == "compile" and "'return' outside function" in detail


def test_output_with_a_changed_ast_is_caught(racy_file: Path, monkeypatch):
    _replace_fix_outcome(monkeypatch, lambda old, new: new.with_changes(body=[*new.body, cst.parse_statement("x = 1\n")]))
    check, detail = _only_failure(selfcheck.selfcheck([racy_file]))
    assert check == "ast"
    assert detail == "the rewritten code differs from the input beyond lock code"


def test_output_that_changes_again_is_caught(racy_file: Path, monkeypatch):
    """A "fix" that only appends a comment: the AST is unchanged, the finding stays open,
    and every apply appends another comment."""
    _replace_fix_outcome(monkeypatch, lambda old, new: old.with_changes(footer=[*old.footer, cst.EmptyLine(comment=cst.Comment("# again"))]))
    check, detail = _only_failure(selfcheck.selfcheck([racy_file]))
    assert (check, detail) == ("idempotent", "the second apply changed the file again")


def test_invalid_input_is_skipped_and_libcst_limits_are_unsupported(tmp_path: Path):
    (tmp_path / "py2.py").write_text("print 'hello'\nglobal x\n")
    # Valid Python 3.11 that LibCST's parser rejects (a parenthesized annotated target).
    (tmp_path / "annotated.py").write_text("def f():\n    global g\n    (g): int\n    g += 1\n")
    report = selfcheck.selfcheck(selfcheck.python_files(tmp_path), base=tmp_path)
    assert report.failures == []
    assert [p for p, _ in report.skipped] == ["py2.py"]
    assert [p for p, _ in report.unsupported] == ["annotated.py"]
    assert report.unsupported[0][1].startswith("LibCST cannot parse this file")


def test_command_line_table_json_and_exit_code(tmp_path: Path, racy_file: Path, monkeypatch, capsys):
    script = REPO / "scripts" / "selfcheck.py"
    proc = subprocess.run([sys.executable, str(script), "--json", str(racy_file.parent)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["counts"] == {"crash": 0, "compile": 0, "ast": 0, "idempotent": 0, "import": 0}
    assert (data["files"], data["changed"], data["failures"]) == (1, 1, [])

    monkeypatch.setattr(ALL_RULES[0], "check", lambda self, ctx: 1 / 0)
    assert selfcheck.main([str(racy_file.parent)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        "files  changed  skipped  unsupported  crash  compile  ast  idempotent  import",
        "    1        0        0            0      1        0    0           0       0",
    ]
    assert "  crash      racy.py: internal error: ZeroDivisionError: division by zero" in out


def test_a_class_lock_added_by_one_fix_is_no_evidence_for_another_rule():
    """Found by the selfcheck on idlelib/iomenu.py: FT002 adds a class lock. Only a lock
    each instance carries says instances are shared, so FT003 finds nothing new in the
    rewrite: apply changes what scan showed, and a second apply has nothing left to do."""
    source = (
        "class Binding:\n    dialog = None\n\n    def __init__(self, text):\n        self.text = text\n\n"
        "    def fixnewline(self):\n        if self.text.get('end-2c') != '\\n':\n            self.text.insert('end-1c', '\\n')\n\n"
        "    def ask(self):\n        if not self.dialog:\n            self.dialog = make_dialog(self.text)\n        return self.dialog.show()\n"
    )
    expected = (
        "import threading\n\nclass Binding:\n    _text_lock = threading.Lock()\n    dialog = None\n\n"
        "    def __init__(self, text):\n        self.text = text\n\n"
        "    def fixnewline(self):\n        with self._text_lock:\n            if self.text.get('end-2c') != '\\n':\n"
        "                self.text.insert('end-1c', '\\n')\n\n"
        "    def ask(self):\n        if not self.dialog:\n            self.dialog = make_dialog(self.text)\n        return self.dialog.show()\n"
    )
    assert fixed_text(source, select=["FT002", "FT003"], unsafe_fixes=True) == expected
    assert fixed_text(expected, select=["FT002", "FT003"], unsafe_fixes=True) == expected


# The checker's own AST comparison, independent of ftmigrate.verify (which apply uses).
FIXED = "import threading\ncounter = 0\n_counter_lock = threading.Lock()\n\ndef bump():\n    global counter\n    with _counter_lock:\n        counter += 1\n"
LAZY = "x = None\n\ndef get():\n    global x\n    if x is None:\n        x = make()\n    else:\n        x.ping()\n"
LAZY_ELSE_MOVED = (
    "import threading\nx = None\n_x_lock = threading.Lock()\n\ndef get():\n    global x\n    if x is None:\n"
    "        with _x_lock:\n            if x is None:\n                x = make()\n            else:\n                x.ping()\n"
)


def test_the_checker_does_not_use_the_verifier_it_checks():
    source = (REPO / "scripts" / "selfcheck.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in imports if "verify" in line]
    assert "normalized(" not in source


@pytest.mark.parametrize(
    "old, new, equal",
    [
        pytest.param(RACY, FIXED, True, id="lock added"),
        pytest.param(RACY, FIXED.replace("counter += 1", "counter -= 1"), False, id="operator changed"),
        pytest.param(RACY, FIXED.replace("    global counter\n", ""), False, id="global dropped"),
        pytest.param(RACY, FIXED.replace("with _counter_lock:", "with open('log'):"), False, id="a with that is no lock"),
        pytest.param(LAZY, LAZY_ELSE_MOVED, False, id="double-checked if took the else"),
        pytest.param(
            "d = {}\n\ndef f(k):\n    if k in d:\n        del d[k]\n", "d = {}\n\ndef f(k):\n    d.pop(k, None)\n", False,
            id="undeclared rewrite",
        ),
    ],
)
def test_without_locking(old: str, new: str, equal: bool):
    before, after = selfcheck.without_locking(old, new)
    assert (before == after) is equal


def test_declared_rewrites_are_applied_to_the_input():
    old, new = "d = {}\n\ndef f(k):\n    if k in d:\n        del d[k]\n", "d = {}\n\ndef f(k):\n    d.pop(k, None)\n"
    before, after = selfcheck.without_locking(old, new, [("if k in d:\n    del d[k]\n", "d.pop(k, None)\n")])
    assert before == after


def test_a_verifier_that_accepts_everything_is_caught(racy_file: Path, monkeypatch):
    """apply's verifier is made to accept any rewrite that compiles, and the planner returns
    one with a changed operator: apply writes it, and the checker still says no."""
    monkeypatch.setattr(ftmigrate.verify, "normalized", lambda *args, **kwargs: "")
    _replace_fix_outcome(monkeypatch, lambda old, new: cst.parse_module(new.code.replace("counter += 1", "counter -= 1")))
    check, detail = _only_failure(selfcheck.selfcheck([racy_file]))
    assert (check, detail) == ("ast", "the rewritten code differs from the input beyond lock code")


# Files of 3.13's standard library that the rules rewrite (every rule, a package __init__
# among them), small enough to keep the test near 20 seconds; found with
# `ftmigrate scan --format json` on the 3.13t build's standard library.
IMPORT_SAMPLE = [
    "_osx_support.py",  # FT003
    "_py_abc.py",  # FT002, FT004
    "asyncio/coroutines.py",
    "base64.py",  # FT002, FT003
    "copyreg.py",  # 7 x FT002
    "dbm/__init__.py",  # FT003, a package
    "encodings/__init__.py",
    "json/encoder.py",
    "linecache.py",
    "posixpath.py",
    "re/_compiler.py",  # FT001
    "reprlib.py",
    "tabnanny.py",  # FT001
    "unittest/signals.py",
    "warnings.py",  # FT001, FT002
]


def _free_threaded_stdlib(ft_python: str) -> Path:
    proc = subprocess.run([ft_python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], capture_output=True, text=True)
    return Path(proc.stdout.strip())


def test_rewritten_standard_library_modules_import_on_free_threaded_python(ft_python: str):
    """The free-threaded interpreter's own standard library, rewritten by every rule: each
    rewritten module that imports as it is on 3.13t must also import rewritten, in its place."""
    root = _free_threaded_stdlib(ft_python)
    files = [root / name for name in IMPORT_SAMPLE]
    assert all(f.exists() for f in files), [f for f in files if not f.exists()]
    report = selfcheck.selfcheck(files, base=root, import_with=ft_python)
    print(selfcheck.table(report), "\nimported:", report.imported)
    assert report.counts() == {"crash": 0, "compile": 0, "ast": 0, "idempotent": 0, "import": 0}, selfcheck.table(report)
    assert len(report.imported) >= len(IMPORT_SAMPLE) - 2, report.imported


def test_a_rewrite_that_breaks_the_import_is_caught(ft_python: str, monkeypatch):
    root = _free_threaded_stdlib(ft_python)
    broken = cst.parse_statement("raise ImportError('broken')\n")
    _replace_fix_outcome(monkeypatch, lambda old, new: new if "broken" in new.code else new.with_changes(body=[*new.body, broken]))
    # Only the import check is left to notice: apply's verifier and the AST check accept anything.
    monkeypatch.setattr(ftmigrate.verify, "normalized", lambda *args, **kwargs: "")
    monkeypatch.setattr(selfcheck, "_round_trip_problem", lambda *args: None)
    report = selfcheck.selfcheck([root / IMPORT_SAMPLE[0]], base=root, import_with=ft_python)
    [failure] = report.failures
    assert failure.check == "import" and failure.detail.endswith("ImportError: broken")
