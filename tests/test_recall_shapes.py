"""Racy shapes of public libraries that FT003/FT004 find (issue 15's recall set), and the
near misses they must leave alone: exact findings through the CLI, exact rewrites."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from typer.testing import CliRunner

from ftmigrate.cli import app
from tests.helpers import fixed_text


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _scan(tmp_path: Path, files: dict[str, str], *options: str) -> list[tuple[str, int, str, str, str]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_code(text))
    result = CliRunner().invoke(
        app, ["scan", str(tmp_path), "--format", "json", "--no-cache", "--min-confidence", "low", *options]
    )
    assert result.exit_code in (0, 1), result.output
    return [
        (Path(f["path"]).relative_to(tmp_path).as_posix(), f["line"], f["rule"], f["confidence"], f["message"])
        for f in json.loads(result.output)["findings"]
    ]


# redis/lock.py: Lock.register_scripts, a class attribute created through `cls = self.__class__`.
REDIS_LOCK = """
    import threading


    class Lock:
        lua_release = None

        def __init__(self, redis):
            self.redis = redis
            self.register_scripts()

        def register_scripts(self):
            cls = self.__class__
            client = self.redis
            if cls.lua_release is None:
                cls.lua_release = client.register_script("release")
    """


def test_class_attribute_created_through_a_class_alias(tmp_path):
    assert _scan(tmp_path, {"lock.py": REDIS_LOCK}) == [
        ("lock.py", 14, "FT003", "medium", "class attribute `cls.lua_release` is created lazily without a lock: "
         "threads that race on the first call each create one"),
    ]


def test_class_alias_fix_double_checks_under_a_class_lock():
    assert fixed_text(_code(REDIS_LOCK), unsafe_fixes=True) == _code(
        """
        import threading


        class Lock:
            lua_release = None
            _lua_release_lock = threading.RLock()

            def __init__(self, redis):
                self.redis = redis
                self.register_scripts()

            def register_scripts(self):
                cls = self.__class__
                client = self.redis
                if cls.lua_release is None:
                    with self.__class__._lua_release_lock:
                        if cls.lua_release is None:
                            cls.lua_release = client.register_script("release")
        """
    )
    assert fixed_text(_code(REDIS_LOCK)) == _code(REDIS_LOCK)  # it calls a method: an unsafe fix


def test_an_alias_bound_twice_is_not_the_class(tmp_path):
    code = """
        class Lock:
            def register(self, other):
                cls = self.__class__
                if other:
                    cls = other
                if cls.lua is None:
                    cls.lua = 1
        """
    assert _scan(tmp_path, {"lock.py": code}) == []


def test_classproperty_is_a_class_method(tmp_path):
    # django/db/migrations/recorder.py: MigrationRecorder.Migration
    code = """
        from django.utils.functional import classproperty


        class MigrationRecorder:
            _migration_class = None

            @classproperty
            def Migration(cls):
                if cls._migration_class is None:
                    cls._migration_class = build()
                return cls._migration_class
        """
    assert _scan(tmp_path, {"recorder.py": code}) == [
        ("recorder.py", 9, "FT003", "medium", "class attribute `cls._migration_class` is created lazily without a lock: "
         "threads that race on the first call each create one"),
    ]


def test_class_counter_bumped_by_a_helper_of_the_constructor(tmp_path):
    # django/db/models/manager.py: two threads that build two managers share the class counter.
    code = """
        class BaseManager:
            creation_counter = 0

            def __init__(self):
                self._set_creation_counter()

            def _set_creation_counter(self):
                self.creation_counter = BaseManager.creation_counter
                BaseManager.creation_counter += 1
        """
    [finding] = _scan(tmp_path, {"manager.py": code})
    assert finding[:4] == ("manager.py", 9, "FT004", "medium")


# urllib3/connectionpool.py: a pool keeps a thread-safe LifoQueue of connections.
URLLIB3_POOL = """
    import queue


    class HTTPConnectionPool:
        QueueCls = queue.LifoQueue

        def __init__(self, maxsize=1):
            self.pool = self.QueueCls(maxsize)
            self.num_connections = 0

        def _new_conn(self):
            self.num_connections += 1
            return object()


    class HTTPSConnectionPool(HTTPConnectionPool):
        def _new_conn(self):
            self.num_connections += 1
            return object()
    """


def test_a_class_with_a_thread_safe_queue_is_shared(tmp_path):
    assert _scan(tmp_path, {"connectionpool.py": URLLIB3_POOL}) == [
        ("connectionpool.py", 12, "FT004", "medium", "`self.num_connections` (attribute of `HTTPConnectionPool` instances, "
         "which are shared between threads: it keeps a thread-safe `queue.LifoQueue`) is read, modified and written "
         "without a lock; concurrent threads lose updates"),
        ("connectionpool.py", 18, "FT004", "medium", "`self.num_connections` (attribute of `HTTPSConnectionPool` instances, "
         "which are shared between threads: it derives from `HTTPConnectionPool`: it keeps a thread-safe "
         "`queue.LifoQueue`) is read, modified and written without a lock; concurrent threads lose updates"),
    ]


def test_a_queue_of_another_module_is_no_evidence(tmp_path):
    code = URLLIB3_POOL.replace("import queue", "import myqueue as queue")
    assert _scan(tmp_path, {"connectionpool.py": code}) == []


def test_documentation_that_says_shared_between_threads(tmp_path):
    # pymongo/topology.py: Topology.open's docstring.
    code = '''
        class Topology:
            def open(self):
                """Start monitoring.

                Topology is shared among multiple threads and is protected by a lock.
                """
                if self._pid is None:
                    self._pid = 1
        '''
    [finding] = _scan(tmp_path, {"topology.py": code})
    assert finding[:4] == ("topology.py", 7, "FT003", "medium")
    assert '(its documentation says "shared among multiple threads")' in finding[4]


def test_documentation_that_says_not_or_only_is_no_evidence(tmp_path):
    # sqlalchemy's Connection and Session, kombu's TokenBucket, pika's Connection, tornado's IOLoop.
    docstrings = [
        "The Connection object is **not** thread-safe. While a Connection can be shared among threads using "
        "properly synchronized access, it is still possible that the DBAPI connection does not support it.",
        "The Session is **not safe for use in concurrent threads.** See session_faq_threadsafe.",
        "Thread Safety: This implementation is not thread safe.",
        "NOTE: This is the only thread-safe method offered by the connection.",
        "It is safe to call this method from any thread. See add_timeout for comments on thread-safety.",
    ]
    files = {
        f"m{i}.py": f'''
            class C:
                """{doc}"""

                def bump(self):
                    self.hits += 1

                def get(self):
                    if self._c is None:
                        self._c = 1
            '''
        for i, doc in enumerate(docstrings)
    }
    assert _scan(tmp_path, files) == []


def test_attribute_of_the_function_object_itself(tmp_path):
    # kombu/utils/functional.py: memoize's wrapper counts hits on itself.
    code = """
        import threading
        from functools import wraps


        def memoize(fun):
            mutex = threading.Lock()
            cache = {}

            @wraps(fun)
            def _M(*args):
                try:
                    with mutex:
                        value = cache[args]
                except KeyError:
                    value = fun(*args)
                    _M.misses += 1
                return value

            _M.misses = 0
            return _M
        """
    assert _scan(tmp_path, {"functional.py": code}) == [
        ("functional.py", 16, "FT004", "medium", "`_M.misses` (attribute of function `_M`, shared by all its callers) "
         "is read, modified and written without a lock; concurrent threads lose updates"),
    ]
    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--format", "json", "--no-cache"])
    [finding] = json.loads(result.output)["findings"]
    assert finding["fixable"] is False


HTTPCORE_SYNC = '''
    import threading


    class Lock:
        """In the sync case `Lock` provides thread locking."""

        def __init__(self):
            self._lock = threading.Lock()

        def __enter__(self):
            self._lock.acquire()
            return self

        def __exit__(self, *exc):
            self._lock.release()
    '''

# httpcore/_sync/http2.py: `_request_count` is updated under `_state_lock` in one method and
# under `_read_lock` in another: the two locks do not exclude each other.
HTTPCORE_HTTP2 = """
    from .._synchronization import Lock


    class HTTP2Connection:
        def __init__(self):
            self._state_lock = Lock()
            self._read_lock = Lock()
            self._request_count = 0

        def handle_request(self):
            with self._state_lock:
                self._request_count += 1

        def _response_closed(self):
            with self._state_lock:
                self._request_count -= 1

        def _read_incoming_data(self, terminated):
            with self._read_lock:
                if terminated:
                    self._request_count -= 1
    """


def test_an_update_under_another_lock_than_the_others(tmp_path):
    files = {"httpcore/__init__.py": "", "httpcore/_synchronization.py": HTTPCORE_SYNC,
             "httpcore/_sync/__init__.py": "", "httpcore/_sync/http2.py": HTTPCORE_HTTP2}
    assert _scan(tmp_path, files) == [
        ("httpcore/_sync/http2.py", 21, "FT004", "medium", "`self._request_count` (attribute of `HTTP2Connection` "
         "instances, which are shared between threads: its instances have a thread lock attribute) is read, modified "
         "and written under `self._read_lock`, but other updates of it hold `self._state_lock`: the locks do not "
         "exclude each other, and concurrent threads lose updates"),
    ]


def test_a_project_lock_wrapper_is_evidence_only_when_it_wraps_a_thread_lock(tmp_path):
    files = {"httpcore/__init__.py": "", "httpcore/_synchronization.py": HTTPCORE_SYNC.replace("threading.Lock()", "anyio.Lock()"),
             "httpcore/_sync/__init__.py": "", "httpcore/_sync/http2.py": HTTPCORE_HTTP2}
    assert _scan(tmp_path, files) == []


def test_a_project_lock_factory_function(tmp_path):
    # pymongo/lock.py's _create_lock() and a class that keeps one per instance.
    files = {
        "pkg/__init__.py": "",
        "pkg/lock.py": """
            import threading


            def _create_lock():
                lock = threading.Lock()
                register(lock)
                return lock
            """,
        "pkg/pool.py": """
            from pkg.lock import _create_lock


            class Pool:
                def __init__(self):
                    self._lock = _create_lock()

                def checkout(self):
                    self.active += 1
            """,
    }
    [finding] = _scan(tmp_path, files)
    assert finding[:4] == ("pkg/pool.py", 9, "FT004", "medium")


def test_a_condition_holds_the_lock_it_was_built_on(tmp_path):
    # pymongo/pool.py: `self.size_cond = threading.Condition(self.lock)`.
    code = """
        import threading


        class Pool:
            def __init__(self):
                self.lock = threading.Lock()
                self.size_cond = threading.Condition(self.lock)

            def checkout(self):
                with self.lock:
                    self.active_sockets += 1

            def checkin(self):
                with self.size_cond:
                    self.active_sockets -= 1
        """
    assert _scan(tmp_path, {"pool.py": code}) == []


def test_a_subclass_that_skips_the_base_init_has_none_of_its_evidence(tmp_path):
    # redis/cluster.py: ClusterPipeline(RedisCluster) sets itself up without RedisCluster.__init__.
    code = """
        import threading


        class RedisCluster:
            def __init__(self):
                self._lock = threading.Lock()


        class ClusterPipeline(RedisCluster):
            def __init__(self):
                self.reinitialize_counter = 0

            def execute(self):
                self.reinitialize_counter += 1


        class Tracked(RedisCluster):
            def __init__(self):
                super().__init__()

            def execute(self):
                self.calls += 1
        """
    [finding] = _scan(tmp_path, {"cluster.py": code})
    assert finding[:4] == ("cluster.py", 22, "FT004", "medium")
    assert "it derives from `RedisCluster`: its instances have a thread lock attribute" in finding[4]


def test_lock_makers_of_a_module():
    import ast

    from ftmigrate.lockmakers import ast_lock_makers

    code = _code(
        """
        import threading
        from threading import RLock as _R


        def _create_lock():
            lock = threading.Lock()
            return lock


        def reentrant():
            return _R()


        def given(lock=None):
            if lock is None:
                lock = threading.Lock()
            return lock


        def sometimes(flag):
            if flag:
                return threading.Lock()
            return None


        class Lock:
            def __init__(self):
                self._lock = threading.Lock()

            def __enter__(self):
                self._lock.acquire()


        class NotEntered:
            def __init__(self):
                self._lock = threading.Lock()
        """
    )
    assert ast_lock_makers(ast.parse(code)) == {
        "_create_lock": "`_create_lock()` returns a threading lock",
        "reentrant": "`reentrant()` returns a threading lock",
        "Lock": "`Lock` wraps a threading lock",
    }
