"""FT004 beyond its own examples and fixtures: messages, which lock a class's state gets
when a statement calls code, and opting a class in through the configuration."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO
from tests.helpers import check_text, fixed_text


def _code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


BASKET = _code(
    """
    import threading


    class Basket:
        def __init__(self):
            self._lock = threading.{kind}()
            self.total = 0
            self.count = 0

        def price_of(self, item):
            with self._lock:
                return item.price

        def add(self, item):
            self.total += self.price_of(item)
            self.count += 1

        def clear(self):
            with self._lock:
                self.total = self.count = 0
    """
)


def test_messages_name_the_state_and_why_it_is_shared():
    code = _code(
        """
        import threading

        import config

        stats = {}


        class Cache:
            hits = 0

            def __init__(self):
                self._lock = threading.Lock()

            @classmethod
            def bump(cls):
                cls.hits += 1

            def get(self):
                self.misses += 1


        def f(k):
            stats[k] += 1
            config.retries -= 1
        """
    )
    assert [(f.line, f.message) for f in check_text(code, fix=False, select=["FT004"]).findings] == [
        (16, "`cls.hits` (class attribute of `Cache`) is read, modified and written without a lock; concurrent threads lose updates"),
        (
            19,
            "`self.misses` (attribute of `Cache` instances, which are shared between threads: its instances have a thread "
            "lock attribute) "
            "is read, modified and written without a lock; concurrent threads lose updates",
        ),
        (23, "`stats[k]` (item of module-level `stats`) is read, modified and written without a lock; concurrent threads lose updates"),
        (24, "`config.retries` (attribute of imported `config`) is read, modified and written without a lock; concurrent threads lose updates"),
    ]


def test_the_class_lock_is_not_held_across_a_call_to_a_method_that_takes_it():
    code = BASKET.format(kind="Lock")
    deadlock = "it calls price_of(), which takes `self._lock` too; holding that lock here would deadlock"
    result = check_text(code, fix=True, select=["FT004"], unsafe_fixes=True)
    assert result.error is None
    assert [(f.line, f.fixed, f.unfixable_reason) for f in result.findings] == [(15, False, deadlock), (16, False, deadlock)]
    assert fixed_text(code, select=["FT004"], unsafe_fixes=True) == code
    # Safe fixes only: the call stays out, so `self.count += 1` alone takes the lock safely.
    result = check_text(code, fix=True, select=["FT004"])
    assert [(f.line, f.fixed, f.unfixable_reason) for f in result.findings] == [(15, False, deadlock), (16, True, None)]
    assert result.new_text == code.replace("        self.count += 1\n", "        with self._lock:\n            self.count += 1\n")


def test_a_reentrant_class_lock_is_held_across_a_call_to_a_method_that_takes_it():
    code = BASKET.format(kind="RLock")
    assert fixed_text(code, select=["FT004"], unsafe_fixes=True) == code.replace(
        "        self.total += self.price_of(item)\n        self.count += 1\n",
        "        with self._lock:\n            self.total += self.price_of(item)\n            self.count += 1\n",
    )


def test_a_lock_guarding_the_state_elsewhere_is_reused_across_an_unknown_call():
    code = _code(
        """
        import threading

        totals = {}
        lock = threading.Lock()


        def add(k, n):
            with lock:
                totals[k] += n


        def add_price(k, item):
            totals[k] += item.price()
        """
    )
    assert fixed_text(code, select=["FT004"], unsafe_fixes=True) == code.replace(
        "    totals[k] += item.price()\n", "    with lock:\n        totals[k] += item.price()\n"
    )


def test_a_new_lock_is_reentrant_when_the_statement_calls_code():
    code = _code(
        """
        import threading


        class Basket:
            def __init__(self):
                self.total = 0

            def add(self, item):
                self.total += item.price()

            def fill(self, items):
                for item in items:
                    threading.Thread(target=self.add, args=(item,)).start()
        """
    )
    assert "    _total_lock = threading.RLock()\n" in fixed_text(code, select=["FT004"], unsafe_fixes=True)


def test_an_instance_lock_of_another_object_is_not_a_deadlock():
    """`self._data.get()` under `self._lock` is not a call of `Cache.get` on the same object."""
    code = _code(
        """
        import threading


        class Cache:
            def __init__(self):
                self._lock = threading.Lock()
                self._data = {}
                self.misses = 0

            def get(self, key):
                with self._lock:
                    value = self._data.get(key)
                self.misses += 1
                return value

            def reset(self):
                with self._lock:
                    self.misses = 0
        """
    )
    assert fixed_text(code, select=["FT004"]) == code.replace(
        "        self.misses += 1\n", "        with self._lock:\n            self.misses += 1\n"
    )


METRICS = _code(
    """
    class Metrics:
        def __init__(self):
            self.requests = 0

        def observe(self):
            self.requests += 1
    """
)


def _scan(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ftmigrate", "scan", "--select", "FT004", "metrics.py"],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


def test_a_class_is_opted_in_through_shared_classes(tmp_path: Path):
    (tmp_path / "metrics.py").write_text(METRICS, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.ftmigrate]\nselect = ['FT004']\n", encoding="utf-8")
    plain = _scan(tmp_path)
    assert (plain.returncode, "FT004" in plain.stdout) == (0, False), plain.stdout + plain.stderr

    (tmp_path / "pyproject.toml").write_text("[tool.ftmigrate]\nshared-classes = ['Metrics']\n", encoding="utf-8")
    opted_in = _scan(tmp_path)
    assert opted_in.returncode == 1, opted_in.stdout + opted_in.stderr
    assert "metrics.py:6:9: FT004" in opted_in.stdout
    assert "listed in shared-classes" in opted_in.stdout


def test_no_lock_attribute_is_added_to_an_enum():
    code = _code(
        """
        import enum


        class Color(enum.Enum):
            RED = 1
            used = 0

            @classmethod
            def use(cls):
                cls.used += 1
        """
    )
    result = check_text(code, fix=True, select=["FT004"])
    assert [(f.line, f.fixed, f.unfixable_reason) for f in result.findings] == [
        (10, False, "a lock attribute added to an Enum class would become a member")
    ]
    assert fixed_text(code, select=["FT004"], unsafe_fixes=True) == code
