"""FT003: lazy singletons and lazy globals created without a lock.

Detection runs on the standard ``ast`` (``ft003_sites``, ``ft003_publication``,
``ft003_singleton_init``); ``candidate()`` is ``ft003_candidate``'s walk.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from codemods.ft003_candidate import Candidates
from codemods.ft003_sites import sites
from ftmigrate.analysis import FileContext
from ftmigrate.rules import Example, Rule, Site

_KEYWORDS = re.compile(r"\b(?:None|not|or)\b")


class LazyInitialisation(Rule):
    """
    ## What it does
    Finds shared objects created on first use without a lock: `__new__` singletons
    (`if cls._instance is None: cls._instance = super().__new__(cls)`), the same in a
    `@classmethod` getter or spelled `ClassName._instance`; module-level lazy globals
    (`global _client` + `if _client is None: _client = make_client()`); the variants
    `if not X:`, `if not hasattr(cls, "_instance"):`, `if "_instance" not in cls.__dict__:`
    and `X = X or make()`; class attributes created through `cls = self.__class__` (or
    `type(self)`) or in a `@classproperty`; and lazily created attributes (`if self._conn is None:
    self._conn = connect()`) of a class whose instances are shared between threads (they have
    a thread lock attribute, also one made by the project's own lock wrapper or factory; it
    subclasses `threading.Thread`, its methods are handed to threads in the module, it keeps a
    `queue.Queue`-family queue, its documentation says in a plain sentence that it is
    thread-safe or shared between threads, a class of the module it derives from and whose
    `__init__` it runs is shared so, or it is listed in `shared-classes`). It also reports zero-argument
    factories decorated with `functools.lru_cache`/`functools.cache` that serve as
    singletons. Not reported: `self.x` set up in `__init__` or `__setstate__`, class attributes set in
    `__init_subclass__`/`__set_name__` (they run while the class statement executes),
    module-level code (imports run once, under the import lock), and `if not X: X += ...`
    (an update, not a creation).

    ## Why is this bad under free-threading?
    Checking that the object does not exist and creating it are two steps. Threads that
    make their first call together all see "not created yet" and each create an object:
    a singleton's callers end up with different instances, a client is connected twice,
    and the objects that lose the race are silently dropped along with whatever state was
    put in them. On free-threaded CPython 3.13t, 8 threads released together on a
    singleton whose construction takes 1 ms create 8 objects in almost every trial; one
    published before it is set up is handed out half-built to most of the threads that
    arrive meanwhile. `lru_cache` does not help:
    it calls the function without a lock and only stores the result afterwards, so two
    threads that miss the cache together both call the factory.

    ## Example
    ```python
    class Registry:
        _instance = None

        def __new__(cls):
            if cls._instance is None:
                cls._instance = super().__new__(cls)
            return cls._instance
    ```

    ## Use instead
    ```python
    import threading

    class Registry:
        _instance = None
        _instance_lock = threading.RLock()

        def __new__(cls):
            if cls._instance is None:
                with cls._instance_lock:
                    if cls._instance is None:
                        cls._instance = super().__new__(cls)
            return cls._instance
    ```

    ## Fix safety
    Safe (`ftmigrate apply`): the creation calls nothing but builtins or `object`'s own
    allocation (`cls._instance = super().__new__(cls)` in a class without other bases,
    `_registry = {}`), with a dedicated new lock or the class's existing one.

    Unsafe (only with `--unsafe-fixes`): the creation calls a factory or a constructor
    (`cls()`, `make_client()`, `requests.Session()`): it now runs with the lock held, so
    threads that ask for the object while it is being built wait for it (which is the
    point), and a factory that blocks for long, takes other locks, or asks for another
    singleton built the same way from another thread can stall or deadlock. Also unsafe:
    a lock shared by all instances guarding per-instance state.

    The fix is double-checked locking: the existing check stays as the lock-free fast
    path, the lock is taken only while the object does not exist yet, and the check is
    repeated under it, so exactly one thread creates the object and every caller gets it.
    The lock-free read is safe in CPython: storing a reference is atomic and happens only
    after the object was built, so the fast path sees either nothing or the whole object.
    The lock is a new class attribute `_instance_lock` next to `_instance` (so `cls.` and
    `ClassName.` reach it; per-subclass singletons share it, which is coarser but correct),
    a module-level `_client_lock` after `_client` for globals, and a class-level lock for
    instance attributes; an existing lock only when it already guards the same state
    elsewhere and is a proven `threading` lock (`ftmigrate.threadlocks`). When the instances
    carry no thread lock of their own, the lazy attribute is reported but not fixed: one
    lock per instance belongs in `__init__`, and nothing says the instances are shared. An existing
    non-reentrant lock is not reused when a caller in this module already holds it while
    calling the getter (that would deadlock): the finding stays, with that reason. Callers
    in other modules, or further up the call chain, are not seen.
    A new lock is an `RLock` when the guarded code calls anything but safe builtins, so an
    `__init__` that asks for the singleton on the same thread still gets through.

    A `__new__` singleton's `__init__` runs on every `S()` call; a one-time guard in it
    (`if not hasattr(self, "conn"):`, `if self._initialized: return`) is reported too and
    locked with the same lock as `__new__` (the `if`, or for an early `return` the rest of
    `__init__` with it). The two fixes are applied, or held back as unsafe, together.

    The object is never published half-built: when the guarded code assigns the shared
    name and then keeps setting it up (`cls._instance = cls(); cls._instance.load()`),
    the fix builds it in a local and assigns the shared name last. One behaviour changes
    on purpose: if the setup raises, the half-built object is no longer kept. When that
    move is not safe (a function called during the setup reads the shared name, the name
    is assigned more than once, a `return` or `break` could skip the final assignment),
    the finding is reported as not auto-fixable with the reason.

    `X = X or make()` is rewritten to the equivalent `if not X: X = make()` when `X` is a
    global or a class attribute spelled with the class's own name and defined in its body;
    for `cls.X` and `self.X` it is reported only (the store can copy an inherited class
    attribute or run a property setter). The check runs twice on the slow path. Checks
    with an `else`/`elif` branch are reported but not fixed. A zero-argument
    `lru_cache`/`cache` factory is reported only.
    """

    code = "FT003"
    name = "lazy-initialisation-without-lock"
    summary = "lazy singleton or lazily created global/attribute without a lock"
    # The keywords of the checks (`is None`, `not`, `or`) or the `cache` of functools'
    # decorators; as whole words, since `not(x)` and `(x)or y` have no blank around them.
    tokens = ("None", "not", "or", "cache")
    pattern = re.compile(r"\b(?:None|not|or)\b|cache")

    VALID = [
        # already double-checked
        "import threading\n\nclass S:\n    _instance = None\n    _lock = threading.Lock()\n\n    def __new__(cls):\n"
        "        if cls._instance is None:\n            with cls._lock:\n                if cls._instance is None:\n"
        "                    cls._instance = super().__new__(cls)\n        return cls._instance\n",
        # eager module-level instance
        "_client = make_client()\n\ndef get_client():\n    return _client\n",
        # a local variable
        "def f():\n    x = None\n    if x is None:\n        x = make()\n    return x\n",
        # import-time initialisation runs once, under the import lock
        "_client = None\nif _client is None:\n    _client = make_client()\n",
        # instance attribute of a class nothing shares between threads
        "class Conn:\n    def get(self):\n        if self._conn is None:\n            self._conn = connect()\n        return self._conn\n",
        # hooks that run while a class statement executes
        "class Base:\n    def __init_subclass__(cls):\n    "
        "    if '__hook__' not in cls.__dict__:\n            cls.__hook__ = default_hook\n",
        # an update, not a creation
        "import threading\n\nclass Reader(threading.Thread):\n    def feed(self, c):\n"
        "        if not self.buf:\n            self.buf += c\n",
        # an lru_cache factory with arguments is a cache, not a singleton
        "import functools\n\n@functools.lru_cache\ndef load(name):\n    return open(name).read()\n",
    ]
    INVALID = [
        Example(
            "class S:\n    _instance = None\n\n    def __new__(cls):\n        if cls._instance is None:\n"
            "            cls._instance = super().__new__(cls)\n        return cls._instance\n",
            "import threading\n\nclass S:\n    _instance = None\n    _instance_lock = threading.RLock()\n\n    def __new__(cls):\n"
            "        if cls._instance is None:\n            with cls._instance_lock:\n                if cls._instance is None:\n"
            "                    cls._instance = super().__new__(cls)\n        return cls._instance\n",
        ),
        Example(
            "_client = None\n\ndef get_client():\n    global _client\n    if not _client:\n        _client = make_client()\n"
            "        _client.connect()\n    return _client\n",
            "import threading\n\n_client = None\n_client_lock = threading.RLock()\n\ndef get_client():\n    global _client\n"
            "    if not _client:\n        with _client_lock:\n            if not _client:\n                client = make_client()\n"
            "                client.connect()\n                _client = client\n    return _client\n",
            unsafe=True,
        ),
        Example(
            "_registry = None\n\ndef registry():\n    global _registry\n    _registry = _registry or {}\n    return _registry\n",
            "import threading\n\n_registry = None\n_registry_lock = threading.Lock()\n\ndef registry():\n    global _registry\n"
            "    if not _registry:\n        with _registry_lock:\n            if not _registry:\n                _registry = {}\n"
            "    return _registry\n",
        ),
        Example("import functools\n\n@functools.cache\ndef get_settings():\n    return Settings()\n"),
        Example(
            "import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        if self._conn is None:\n"
            "            self._conn = connect()\n",
        ),
    ]

    def prefilter(self, text: str) -> bool:
        """A ``functools`` cache decorator needs ``functools`` imported; any other site
        needs a ``global`` declaration (module state) or a ``class`` (the receiver is a
        method's ``cls``/``self`` or a class's name), and a check's keyword."""
        if not super().prefilter(text):
            return False
        if "functools" in text and "cache" in text:
            return True
        return ("global" in text or "class" in text) and _KEYWORDS.search(text) is not None

    def candidate(self, tree: ast.Module, shared_classes: frozenset[str] = frozenset()) -> bool:
        """``check()``'s shapes on the ``ast``: in a function, an ``if`` whose test means
        "X does not exist yet" and whose body assigns X, or ``X = X or ...``, where X is a
        name the function declares ``global``, an attribute of a class method's first
        parameter, of an instance method's first parameter when the class may be shared
        (``shared-classes``, a lock attribute, a ``Thread`` base, a method handed to a
        thread or pool), or of a top-level class's name; or a parameterless function
        decorated with ``functools.lru_cache``/``cache`` as the module imports them."""
        return Candidates(tree, shared_classes).found()

    def check(self, ctx: FileContext) -> Iterator[Site]:
        yield from sites(self, ctx)
