"""FT003 (lazy initialisation): exact rewrites, report-only reasons, and the planner and
verifier guarantees it relies on (double-checked `if`s with `else`, reusing a held lock)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO, TESTDATA
from tests.helpers import check_text, fixed_text


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _findings(code: str, **kwargs):
    result = check_text(_code(code), fix=True, select=["FT003"], **{"unsafe_fixes": True, **kwargs})
    assert result.error is None, result.error
    return [(f.line, f.fixed, f.unfixable_reason) for f in result.findings]


REWRITES = [
    pytest.param(
        """
        _conf = None

        def conf():
            global _conf
            _conf = _conf or load_env() or DEFAULTS
            return _conf
        """,
        """
        import threading

        _conf = None
        _conf_lock = threading.RLock()

        def conf():
            global _conf
            if not _conf:
                with _conf_lock:
                    if not _conf:
                        _conf = load_env() or DEFAULTS
            return _conf
        """,
        id="or-chain-keeps-the-rest-of-the-chain",
    ),
    pytest.param(
        """
        client = 1
        _client_lock = "not a lock"
        _client = None

        def get():
            global _client
            if _client is None:
                _client = make()
                _client.start()
            return _client
        """,
        """
        import threading

        client = 1
        _client_lock = "not a lock"
        _client = None
        _example_lock = threading.RLock()

        def get():
            global _client
            if _client is None:
                with _example_lock:
                    if _client is None:
                        new_client = make()
                        new_client.start()
                        _client = new_client
            return _client
        """,
        id="lock-and-local-names-collide-with-nothing",
    ),
    pytest.param(
        """
        _client = None

        def get():
            global _client
            if _client is None:
                try:
                    _client = make()
                except OSError:
                    _client = Fallback()
            return _client
        """,
        """
        import threading

        _client = None
        _client_lock = threading.RLock()

        def get():
            global _client
            if _client is None:
                with _client_lock:
                    if _client is None:
                        try:
                            _client = make()
                        except OSError:
                            _client = Fallback()
            return _client
        """,
        id="assigned-last-in-each-branch-needs-no-local",
    ),
    pytest.param(
        """
        import threading

        class Repo:
            def __init__(self):
                self._lock = threading.RLock()
                self._conn = None

            @property
            def conn(self):
                if self._conn is None:
                    self._conn = connect()
                return self._conn

            def query(self, q):
                with self._lock:
                    return self.conn.execute(q)

            def close(self):
                with self._lock:
                    self._conn = None
        """,
        """
        import threading

        class Repo:
            def __init__(self):
                self._lock = threading.RLock()
                self._conn = None

            @property
            def conn(self):
                if self._conn is None:
                    with self._lock:
                        if self._conn is None:
                            self._conn = connect()
                return self._conn

            def query(self, q):
                with self._lock:
                    return self.conn.execute(q)

            def close(self):
                with self._lock:
                    self._conn = None
        """,
        id="caller-holds-the-class-rlock-which-is-reentrant",
    ),
]


@pytest.mark.parametrize("before, after", REWRITES)
def test_rewrite(before, after):
    assert fixed_text(_code(before), select=["FT003"], unsafe_fixes=True) == _code(after)
    assert check_text(_code(after), fix=False, select=["FT003"]).findings == []


# Report-only fixtures in testdata/FT003/ (left unchanged by apply) and the reason each gives.
REPORT_ONLY_FIXTURES = {
    "else_branch": "the `if` has an `else`/`elif` branch, which double-checked locking would run at the wrong time",
    "instance_attr_no_lock": "`Poller` has no lock to guard `self._session` with; add one in `__init__` "
    "(`self._lock = threading.Lock()`) and check again under it",
    "caller_holds_lock": "`index` is called while `self._lock` is held (line 16); taking that lock again here would "
    "deadlock",
    "half_built_unfixable": "`_register_hooks()` reads `_engine` after it is assigned and before the block ends, so "
    "`_engine` cannot be assigned last; finish building the object before publishing it",
    "or_attribute_report_only": "`cls._pool = cls._pool or ...` also stores the old value back, which for an attribute "
    "can copy an inherited class attribute or run a property setter; rewrite it as `if not cls._pool: ...` by hand, "
    "then apply again",
}

REPORT_ONLY = [
    *(
        pytest.param((TESTDATA / "FT003" / f"{name}.before.py").read_text(), reason, id=name)
        for name, reason in REPORT_ONLY_FIXTURES.items()
    ),
    pytest.param(
        """
        _client = None

        def get(flag):
            global _client
            if flag:
                return None
            elif _client is None:
                _client = make()
            return _client
        """,
        "the check is an `elif`; double-checked locking needs an `if` of its own",
        id="elif",
    ),
    pytest.param(
        """
        _engine = None

        def engine():
            global _engine
            if _engine is None:
                _engine = create_engine()
                _engine = wrap(_engine)
            return _engine
        """,
        "`_engine` is used after it is assigned, but not by one plain assignment at the top of the block, "
        "so it cannot be built in a local and assigned last automatically",
        id="assigned-twice",
    ),
    pytest.param(
        """
        _engine = None

        def engine(urls):
            global _engine
            for url in urls:
                if _engine is None:
                    _engine = create_engine(url)
                    if not _engine.ping():
                        break
                    _engine.warm_up()
            return _engine
        """,
        "a `return`, `break`, `del` or scope declaration after `_engine` is assigned could skip assigning it last",
        id="break-could-skip-the-publication",
    ),
    pytest.param(
        """
        from functools import cache as memo

        @memo
        def get_pool():
            return make_pool()
        """,
        "`functools.cache` cannot be made to call `get_pool()` only once; create the object lazily in a "
        "global under double-checked locking instead",
        id="aliased-functools-cache",
    ),
]


@pytest.mark.parametrize("code, reason", REPORT_ONLY)
def test_report_only(code, reason):
    findings = _findings(code)
    assert [(fixed, why) for _, fixed, why in findings] == [(False, reason)]
    assert fixed_text(_code(code), select=["FT003"], unsafe_fixes=True) == _code(code)


def test_instance_attributes_need_a_shared_class():
    code = """
    class Conn:
        def get(self):
            if self._conn is None:
                self._conn = connect()
            return self._conn
    """
    assert _findings(code) == []
    assert _findings(code, shared_classes=["Conn"]) == [
        (3, False, "`Conn` has no lock to guard `self._conn` with; add one in `__init__` "
         "(`self._lock = threading.Lock()`) and check again under it")
    ]


def test_messages_name_the_kind_of_state():
    code = _code(
        """
        import functools
        import threading

        _client = None

        def get_client():
            global _client
            if _client is None:
                _client = make_client()
            return _client

        class S:
            def __new__(cls):
                if not hasattr(cls, "_instance"):
                    cls._instance = super().__new__(cls)
                return cls._instance

        class Meta:
            @classmethod
            def schema(cls):
                if cls._schema is None:
                    cls._schema = build_schema(cls)
                return cls._schema

        class W(threading.Thread):
            def conn(self):
                if not self._conn:
                    self._conn = connect()

        @functools.lru_cache()
        def settings():
            return Settings()
        """
    )
    messages = [(f.line, f.message) for f in check_text(code, fix=False, select=["FT003"]).findings]
    assert messages == [
        (8, "`_client` is created lazily without a lock: threads that race on the first call each create one, "
            "and callers end up with different objects"),
        (14, "singleton `cls._instance` is created lazily without a lock: threads that race on the first call "
             "each create an instance"),
        (21, "class attribute `cls._schema` is created lazily without a lock: threads that race on the first "
             "call each create one"),
        (27, "`self._conn` is created lazily without a lock, and `W` is shared between threads (it subclasses "
             "threading.Thread): threads racing on first use each create one"),
        (30, "`settings()` is a zero-argument `@functools.lru_cache` factory used as a singleton: threads that "
             "miss the cache together each call it and get different objects"),
    ]


def test_publishing_last_calls_the_new_object_unsafely():
    """Built in a local and published last, ``cls._instance.setup()`` runs as
    ``instance.setup()``: the new object's own code under the lock, not a method of
    guarded state, so the fix is unsafe and names the call as it will run."""
    code = _code(
        """
        class S:
            _instance = None

            def __new__(cls):
                if cls._instance is None:
                    cls._instance = super().__new__(cls)
                    cls._instance.setup()
                return cls._instance
        """
    )
    [finding] = check_text(code, fix=True, select=["FT003"]).findings
    assert (finding.fix_safety, finding.unsafe_reason) == (
        "unsafe",
        "the lock is held while `instance.setup()` runs, code that can block, take other locks or be "
        "overridden: its callers are serialised and can deadlock",
    )
    assert fixed_text(code, select=["FT003"]) == code
    assert fixed_text(code, select=["FT003"], unsafe_fixes=True) == _code(
        """
        import threading

        class S:
            _instance = None
            _instance_lock = threading.RLock()

            def __new__(cls):
                if cls._instance is None:
                    with cls._instance_lock:
                        if cls._instance is None:
                            instance = super().__new__(cls)
                            instance.setup()
                            cls._instance = instance
                return cls._instance
        """
    )


def test_code_that_already_locks_the_creation_is_left_alone():
    code = """
    import threading

    _client = None
    _lock = threading.Lock()

    def locked():
        global _client
        with _lock:
            if _client is None:
                _client = make()
        return _client

    def half_locked():
        global _client
        if _client is None:
            _lock.acquire()
            try:
                _client = make()
            finally:
                _lock.release()
        return _client
    """
    assert _findings(code) == []


# --- the planner and verifier guarantees FT003 relies on -------------------------------

def test_planner_does_not_reuse_a_lock_the_caller_holds():
    """FT001 too: `bump()` runs under `lock`, so `lock` must not be taken again inside it."""
    code = _code(
        """
        import threading

        lock = threading.Lock()
        count = 0


        def bump():
            global count
            count += 1


        def safe():
            global count
            with lock:
                count += 1
                bump()
        """
    )
    result = check_text(code, fix=True, select=["FT001"])
    assert [(f.line, f.fixed, f.unfixable_reason) for f in result.findings] == [
        (9, False, "`bump` is called while `lock` is held (line 16); taking that lock again here would deadlock")
    ]
    assert fixed_text(code, select=["FT001"]) == code
    rlock = code.replace("threading.Lock()", "threading.RLock()")
    assert "def bump():\n    global count\n    with lock:\n        count += 1\n" in fixed_text(rlock, select=["FT001"])


def test_cli_scan_diff_apply(tmp_path):
    """The rule is live in every command: scan (JSON), apply --diff, apply, scan again."""
    before = TESTDATA / "FT003" / "lazy_global.before.py"
    target = tmp_path / "client.py"
    target.write_bytes(before.read_bytes())

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "ftmigrate", *args, str(target)], cwd=REPO, capture_output=True, text=True)

    scan = cli("scan", "--format", "json")
    assert scan.returncode == 1
    assert [(f["rule"], f["line"], f["fixable"]) for f in json.loads(scan.stdout)["findings"]] == [("FT003", 13, True)]

    diff = cli("apply", "--unsafe-fixes", "--diff")
    assert diff.returncode == 1 and target.read_bytes() == before.read_bytes()
    assert "+        with _client_lock:\n+            if _client is None:\n" in diff.stdout

    applied = cli("apply", "--unsafe-fixes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert target.read_bytes() == before.with_name("lazy_global.after.py").read_bytes()
    assert cli("scan").returncode == 0


def test_state_restored_by_setstate_is_not_reported():
    """requests 2.34.2, cookies.py: ``__setstate__`` recreates the jar's lock on an object
    no other thread can see yet; wrapping that in the lock it creates broke unpickling."""
    code = _code(
        """
        import threading

        class Jar:
            def __init__(self):
                self._cookies_lock = threading.RLock()

            def __getstate__(self):
                state = self.__dict__.copy()
                state.pop("_cookies_lock")
                return state

            def __setstate__(self, state):
                self.__dict__.update(state)
                if "_cookies_lock" not in self.__dict__:
                    self._cookies_lock = threading.RLock()
        """
    )
    assert check_text(code, fix=False, select=["FT003"]).findings == []
