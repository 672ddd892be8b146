"""`ftmigrate batch` end to end on real repositories: branches, commits, patches, report,
exit code, and every user's working copy left exactly as it was."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.batch_repos import CLEAN, COUNTER, NOT_FIXABLE, TOTAL, branch_of, git, make_dirty, make_repo, report_rows, snapshot, write
from tests.helpers import fixed_text

BRANCH = "ftmigrate/free-threading"
FAILING_TEST = "python -c \"import os, sys; print('ran tests in', os.path.basename(os.getcwd())); sys.exit(3 if os.path.exists('FAIL') else 0)\""


@pytest.fixture
def fleet(tmp_path: Path) -> dict[str, Path]:
    """Seven sources: findings, clean, uncommitted edits, not a repository, failing tests,
    and two repositories that share the basename "service"."""
    root = tmp_path / "repos"
    repos = {
        "app": make_repo(root / "app", {"app/stats.py": COUNTER, "app/totals.py": TOTAL, "app/stream.py": NOT_FIXABLE, "app/util.py": CLEAN}),
        "clean": make_repo(root / "clean", {"lib.py": CLEAN}),
        "dirty": make_repo(root / "dirty", {"pkg/__init__.py": "", "pkg/counter.py": COUNTER}),
        "failing": make_repo(root / "failing", {"counter.py": COUNTER, "FAIL": "the test command fails here\n"}),
        "team-a": make_repo(root / "team-a" / "service", {"service.py": COUNTER}),
        "team-b": make_repo(root / "team-b" / "service", {"service.py": CLEAN}),
    }
    make_dirty(repos["dirty"])
    repos["plain"] = root / "plain"
    write(repos["plain"], {"counter.py": COUNTER})
    return repos


def invoke(*args: str):
    return CliRunner().invoke(app, ["batch", *args])


def no_git_identity(monkeypatch, tmp_path: Path) -> None:
    """A machine where git knows no user (CI, a container): no global or system config."""
    (tmp_path / "empty.gitconfig").write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "empty.gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)


def test_batch_end_to_end(fleet: dict[str, Path], tmp_path: Path, monkeypatch):
    no_git_identity(monkeypatch, tmp_path)
    before = {name: snapshot(path) for name, path in fleet.items()}
    out = tmp_path / "out"
    result = invoke(*map(str, fleet.values()), "--output", str(out), "--test-cmd", FAILING_TEST, "--jobs", "2")

    assert result.exit_code == 1, result.output
    rows = report_rows(out)
    service_a, service_b = (n for n in rows if n.startswith("service-"))
    assert rows[service_a]["source"] == str(fleet["team-a"]) and rows[service_b]["source"] == str(fleet["team-b"])
    assert sorted(rows) == sorted(["app", "clean", "dirty", "failing", "plain", service_a, service_b])
    assert {n: r["status"] for n, r in rows.items()} == {
        "app": "changed", "clean": "clean", "dirty": "changed", "failing": "failed", "plain": "failed",
        service_a: "changed", service_b: "clean",
    }

    app = rows["app"]
    assert app["files_changed"] == ["app/stats.py", "app/totals.py"]
    assert (app["findings"], app["fixed"], app["not_fixable"]) == ({"FT001": 3}, 2, 1)
    assert [(u["path"], u["line"], u["rule"]) for u in app["unfixable"]] == [("app/stream.py", 6, "FT001")]
    assert app["test"]["passed"] is True and app["test"]["output_tail"] == "ran tests in app"
    assert (app["branch"], app["error"], app["patch"]) == (BRANCH, None, "app.patch")

    failing = rows["failing"]
    assert failing["branch"] is None and failing["commit"] is None
    assert failing["test"]["exit_code"] == 3 and failing["test"]["output_tail"] == "ran tests in failing"
    assert failing["error"] == "test command exited with 3; no branch created (the patch is kept for review)"
    assert rows["plain"]["error"] == "not a git repository"
    assert rows["dirty"]["notes"] == ["uncommitted changes in the working tree were left alone; the migration starts from HEAD"]
    for name in ("clean", service_b):
        assert rows[name]["findings"] == {} and rows[name]["patch"] is None and rows[name]["test"] is None

    # Branches only where something changed and the tests passed; never elsewhere.
    for name, path in fleet.items():
        has_branch = name in ("app", "dirty", "team-a")
        assert (branch_of(path) is not None if (path / ".git").exists() else False) == has_branch, name

    # The commit: on top of HEAD, only ftmigrate's rewrite, a message with rules and counts.
    app_repo = fleet["app"]
    commit = branch_of(app_repo)
    assert commit == app["commit"]
    assert git(app_repo, "rev-parse", f"{commit}^") == before["app"]["head"] == app["head"]
    assert git(app_repo, "diff", "--name-only", f"{commit}^", commit).splitlines() == app["files_changed"]
    assert git(app_repo, "show", f"{commit}:app/stats.py") + "\n" == fixed_text(COUNTER)
    assert git(app_repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", commit) == "ftmigrate <ftmigrate@localhost>|ftmigrate <ftmigrate@localhost>"
    message = git(app_repo, "log", "-1", "--format=%B", commit)
    assert "`ftmigrate apply` fixed 2 findings in 2 files:\n- FT001 global-read-modify-write: 2 fixed of 3 found\n" in message
    assert "- app/stream.py:6: FT001 " in message
    assert f"Ftmigrate-Base: {app['head']}" in message

    # The dirty repository's branch holds HEAD's file migrated, none of the uncommitted edits.
    dirty_commit = branch_of(fleet["dirty"])
    assert git(fleet["dirty"], "show", f"{dirty_commit}:pkg/counter.py") + "\n" == fixed_text(COUNTER)
    assert git(fleet["dirty"], "diff", "--name-only", f"{dirty_commit}^", dirty_commit) == "pkg/counter.py"

    # Every patch applies with `git am` on a fresh clone and gives the branch's tree.
    for name, repo in (("app", fleet["app"]), ("dirty", fleet["dirty"]), (service_a, fleet["team-a"])):
        clone = tmp_path / "clones" / name
        git(tmp_path, "clone", "-q", str(repo), str(clone))
        git(clone, "am", "-q", str(out / f"{name}.patch"))
        assert git(clone, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{BRANCH}^{{tree}}")
    # The failing repository's patch is kept for review and applies too.
    clone = tmp_path / "clones" / "failing"
    git(tmp_path, "clone", "-q", str(fleet["failing"]), str(clone))
    git(clone, "am", "-q", str(out / "failing.patch"))
    assert (clone / "counter.py").read_text() == fixed_text(COUNTER)

    # The user's working copies: byte for byte, index, status, stash, branch, no worktree left.
    assert {name: snapshot(path) for name, path in fleet.items()} == before
    assert not (out / "worktrees").exists()

    # Per-repository results and the report files.
    for name, row in rows.items():
        assert json.loads((out / f"{name}.json").read_text()) == row
    assert sorted(p.name for p in out.glob("*.patch")) == sorted(["app.patch", "dirty.patch", "failing.patch", f"{service_a}.patch"])
    markdown = (out / "report.md").read_text()
    assert f"| app | changed | 2 | FT001: 3 | 2 | 1 | passed | `{BRANCH}` | `{commit[:12]}` |  |" in markdown
    assert "| plain | failed | 0 | - | 0 | 0 | - | - | - | not a git repository |" in markdown
    assert "7 repositories: 3 changed, 2 clean, 2 failed" in markdown
    assert "[7/7] " in result.stderr and "7 repositories: 3 changed, 2 clean, 2 failed" in result.stdout


def test_clean_repositories_exit_zero_and_an_existing_branch_is_never_overwritten(tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"m.py": COUNTER})
    clean = make_repo(tmp_path / "clean", {"m.py": CLEAN})
    git(repo, "branch", BRANCH)  # someone's branch of the same name, at HEAD
    taken = branch_of(repo)

    result = invoke(str(clean), "--output", str(tmp_path / "out1"), "--jobs", "1")
    assert result.exit_code == 0, result.output

    result = invoke(str(repo), str(clean), "--output", str(tmp_path / "out2"))
    assert result.exit_code == 1
    row = report_rows(tmp_path / "out2")["repo"]
    assert row["status"] == "failed" and row["branch"] is None
    assert row["error"].startswith(f"branch '{BRANCH}' already exists (at {taken[:12]}); ftmigrate never overwrites a branch")
    assert branch_of(repo) == taken

    # --resume does not take over a branch that does not hold this migration either.
    result = invoke(str(repo), "--output", str(tmp_path / "out2"), "--resume")
    assert result.exit_code == 1
    assert "it is not up to date with HEAD" in report_rows(tmp_path / "out2")["repo"]["error"]
    assert branch_of(repo) == taken


def test_dry_run_writes_diffs_and_no_branch_or_commit(fleet: dict[str, Path], tmp_path: Path):
    repos = [fleet["app"], fleet["clean"], fleet["dirty"]]
    refs_before = [git(r, "for-each-ref") for r in repos]
    objects_before = [git(r, "count-objects", "-v") for r in repos]
    out = tmp_path / "out"
    result = invoke(*map(str, repos), "--output", str(out), "--dry-run", "--test-cmd", "false")
    assert result.exit_code == 0, result.output
    rows = report_rows(out)
    assert {n: (r["status"], r["patch"], r["branch"], r["commit"], r["test"]) for n, r in rows.items()} == {
        "app": ("changed", "app.diff", None, None, None),
        "clean": ("clean", None, None, None, None),
        "dirty": ("changed", "dirty.diff", None, None, None),
    }
    assert [git(r, "for-each-ref") for r in repos] == refs_before
    assert [git(r, "count-objects", "-v") for r in repos] == objects_before  # not even a loose commit
    assert not list(out.glob("*.patch"))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(fleet["app"]), str(clone))
    git(clone, "apply", str(out / "app.diff"))
    assert (clone / "app" / "stats.py").read_text() == fixed_text(COUNTER)
    assert "Dry run: no branches or commits" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--select", "FT999"], "unknown rule code or prefix 'FT999'"),
        (["--branch", "bad..name"], "--branch 'bad..name' is not a valid branch name"),
        (["--executor", "dask"], "--executor dask needs --scheduler tcp://HOST:PORT"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler is only used with --executor dask"),
    ],
    ids=["unknown-rule", "bad-branch", "dask-without-scheduler", "scheduler-without-dask"],
)
def test_usage_errors_exit_2_and_touch_nothing(tmp_path: Path, args: list[str], message: str):
    repo = make_repo(tmp_path / "repo", {"m.py": COUNTER})
    result = invoke(str(repo), "--output", str(tmp_path / "out"), *args)
    assert result.exit_code == 2
    assert f"ftmigrate: error: {message}" in result.stderr
    assert not (tmp_path / "out").exists() and branch_of(repo) is None


def test_no_repositories_is_a_usage_error(tmp_path: Path):
    empty = tmp_path / "repos.txt"
    empty.write_text("# nothing yet\n\n")
    result = invoke("--repos-file", str(empty), "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "no repositories given" in result.stderr


def test_repos_file_paths_are_relative_to_the_file_and_a_url_is_cloned(tmp_path: Path):
    make_repo(tmp_path / "repos" / "one", {"m.py": COUNTER})
    upstream = make_repo(tmp_path / "upstream" / "two.git", {"m.py": COUNTER})
    listing = tmp_path / "repos" / "list.txt"
    listing.write_text(f"# our repositories\none   # the first one\n\n  \nfile://{upstream}\t# upstream\none/\n")
    out = tmp_path / "out"
    result = invoke("--repos-file", str(listing), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "is listed more than once; it is processed once" in result.output
    rows = report_rows(out)
    assert sorted(rows) == ["one", "two"]
    assert rows["one"]["repository"] == str(tmp_path / "repos" / "one")
    clone = out / "clones" / "two"
    assert rows["two"]["repository"] == str(clone) and rows["two"]["status"] == "changed"
    assert branch_of(clone) == rows["two"]["commit"] and branch_of(upstream) is None
    assert (
        f"- the branch `{BRANCH}` is in the bare clone `{clone}` made from that URL "
        f"(push it from there: `git -C {clone} push origin {BRANCH}`)"
    ) in (out / "report.md").read_text()


def test_commits_use_the_repositorys_git_identity_when_it_has_one(tmp_path: Path, monkeypatch):
    no_git_identity(monkeypatch, tmp_path)
    own = make_repo(tmp_path / "own", {"m.py": COUNTER})
    git(own, "config", "user.name", "Ada Lovelace")
    git(own, "config", "user.email", "ada@example.com")
    anonymous = make_repo(tmp_path / "anonymous", {"m.py": COUNTER})
    result = invoke(str(own), str(anonymous), "--output", str(tmp_path / "out"), "--jobs", "1")
    assert result.exit_code == 0, result.output
    who = "%an <%ae>|%cn <%ce>"
    assert git(own, "log", "-1", f"--format={who}", BRANCH) == "Ada Lovelace <ada@example.com>|Ada Lovelace <ada@example.com>"
    assert git(anonymous, "log", "-1", f"--format={who}", BRANCH) == "ftmigrate <ftmigrate@localhost>|ftmigrate <ftmigrate@localhost>"


def test_a_missing_repository_in_a_repos_file_is_named_with_its_path(tmp_path: Path):
    listing = tmp_path / "list.txt"
    listing.write_text("gone # was deleted\n")
    result = invoke("--repos-file", str(listing), "--output", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert report_rows(tmp_path / "out")["gone"]["error"] == f"no such directory: {tmp_path / 'gone'}"


def test_exclude_and_select_apply_to_every_repository_on_top_of_its_own_config(tmp_path: Path):
    own = make_repo(tmp_path / "own", {
        "pyproject.toml": '[tool.ftmigrate]\nexclude = ["vendor"]\n', "app.py": COUNTER, "vendor/lib.py": COUNTER,
        "tests/test_app.py": COUNTER, "examples/demo.py": TOTAL,
    })
    out = tmp_path / "out"
    result = invoke(str(own), "--output", str(out), "--exclude", "tests", "--extend-exclude", "examples/*.py", "--select", "FT001")
    assert result.exit_code == 0, result.output
    row = report_rows(out)["own"]
    assert row["files_changed"] == ["app.py"]  # not vendor/ (its config), tests/ nor examples/ (the options)
    assert json.loads((out / "report.json").read_text())["options"]["exclude"] == ["tests", "examples/*.py"]


def test_what_cannot_be_migrated_is_recorded_and_the_batch_goes_on(tmp_path: Path):
    broken = make_repo(tmp_path / "broken", {"good.py": COUNTER, "bad.py": "def f(:\n    global n\n    n += 1\n"})
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    inside = tmp_path / "fine" / "sub"
    fine = make_repo(tmp_path / "fine", {"sub/m.py": COUNTER})
    before = [snapshot(r) for r in (broken, fine)]
    out = tmp_path / "out"

    result = invoke(str(broken), str(empty), str(inside), str(fine), "--output", str(out), "--jobs", "1")

    assert result.exit_code == 1
    rows = report_rows(out)
    assert {n: (r["status"], r["error"]) for n, r in rows.items()} == {
        "broken": ("failed", "1 file(s) could not be migrated: bad.py: syntax error: invalid syntax (line 1, column 7)"),
        "empty": ("skipped", None),
        "sub": ("failed", f"not a git repository, but a folder inside the repository {fine}"),
        "fine": ("changed", None),
    }
    assert rows["empty"]["notes"] == ["the repository has no commits yet"]
    assert (rows["broken"]["findings"], rows["broken"]["patch"]) == ({"FT001": 1}, None)
    assert branch_of(broken) is None and branch_of(fine) == rows["fine"]["commit"]
    assert [snapshot(broken), snapshot(fine)] == before


def test_an_output_folder_inside_a_repository_is_refused_before_anything_is_created(tmp_path: Path):
    fine = make_repo(tmp_path / "fine", {"m.py": COUNTER})
    holder = make_repo(tmp_path / "holder", {"m.py": COUNTER})
    before = [snapshot(fine), snapshot(holder)]
    out = holder / "batch-out"
    result = invoke(str(fine), str(holder), "--output", str(out), "--jobs", "1")
    assert result.exit_code == 2
    assert f"ftmigrate: error: {holder}: the output folder {out} is inside the working tree of the repository {holder}; choose one outside it" in result.output
    assert not out.exists()
    assert [snapshot(fine), snapshot(holder)] == before and branch_of(fine) is None


def test_repositories_that_cannot_start_fail_before_any_work(tmp_path: Path):
    """A taken branch, a folder that is no repository: failed at once, no test command run,
    no worktree made; the others are migrated."""
    taken = make_repo(tmp_path / "taken", {"m.py": COUNTER})
    git(taken, "branch", BRANCH)
    plain = tmp_path / "plain"
    write(plain, {"m.py": COUNTER})
    fine = make_repo(tmp_path / "fine", {"m.py": COUNTER})
    log = tmp_path / "tested"
    out = tmp_path / "out"
    record = f"python -c \"import os; open({str(log)!r}, 'a').write(os.path.basename(os.getcwd()) + '\\n')\""
    result = invoke(str(taken), str(plain), str(fine), "--output", str(out), "--jobs", "1", "--test-cmd", record)
    assert result.exit_code == 1, result.output
    rows = report_rows(out)
    assert {n: (r["status"], r["seconds"]) for n, r in rows.items() if n != "fine"} == {"taken": ("failed", 0.0), "plain": ("failed", 0.0)}
    assert rows["taken"]["error"].startswith(f"branch '{BRANCH}' already exists")
    assert rows["taken"]["findings"] == {} and rows["taken"]["test"] is None
    assert log.read_text() == "fine\n"  # only the repository that could be migrated was tested
    assert rows["fine"]["status"] == "changed"


def test_each_repository_uses_its_own_config_and_never_one_around_the_output_folder(tmp_path: Path):
    own = make_repo(tmp_path / "own", {
        "pyproject.toml": '[tool.ftmigrate]\nexclude = ["vendor"]\n', "app.py": COUNTER, "vendor/lib.py": COUNTER,
    })
    bare = make_repo(tmp_path / "none", {"app.py": COUNTER})
    workspace = tmp_path / "workspace"  # the output folder is inside a project with its own config
    write(workspace, {"pyproject.toml": '[tool.ftmigrate]\nexclude = ["*.py"]\n'})
    result = invoke(str(own), str(bare), "--output", str(workspace / "out"), "--jobs", "1")
    assert result.exit_code == 0, result.output
    rows = report_rows(workspace / "out")
    assert rows["own"]["files_changed"] == ["app.py"]
    assert rows["none"]["files_changed"] == ["app.py"]
