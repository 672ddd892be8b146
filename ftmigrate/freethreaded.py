"""Finding a free-threaded CPython (3.13t/3.14t, GIL disabled): one place for the tests and `verify`.

Looked for in this order, and the first that really runs with the GIL off wins:

1. ``FT_PYTHON``: a path or a command name;
2. ``python3.14t`` and ``python3.13t`` on ``PATH``;
3. interpreters managed by uv (``uv python find 3.14t``) or pyenv (``$PYENV_ROOT/versions/*t``);
4. the one ``scripts/build-free-threaded-python.sh`` built and cached (``cache_dir()``).

``find_free_threaded_python(build=True)`` runs that build script when nothing else is found
(minutes, once per machine). Every candidate is run once to ask ``sys._is_gil_enabled()``:
a name that says "t" is not proof (a GIL build can be named anything, and ``PYTHON_GIL=1``
turns the GIL back on).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

VERSIONS = ("3.14", "3.13")
BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build-free-threaded-python.sh"
_PROBE = (
    "import json, sys, sysconfig; print(json.dumps({'gil': sys._is_gil_enabled() if hasattr(sys, '_is_gil_enabled') else True,"
    " 'ft': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), 'version': '%d.%d.%d' % sys.version_info[:3],"
    " 'executable': sys.executable}))"
)


@dataclass(frozen=True)
class FreeThreadedPython:
    executable: str
    version: str  # e.g. "3.13.5"
    source: str  # how it was found: "FT_PYTHON", "PATH", "uv", "pyenv", "build"


class NoFreeThreadedPython(Exception):
    """No free-threaded interpreter could be found (or built); the message says how to get one."""


def cache_dir() -> Path:
    """Where the build script caches its interpreter (and `verify` its venvs)."""
    base = os.environ.get("FTMIGRATE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "ftmigrate"
    )
    return Path(base)


def probe(executable: str, timeout: float = 60) -> FreeThreadedPython | None:
    """The interpreter at ``executable`` if it runs with the GIL disabled, else None."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PYTHONHOME", "PYTHONPATH")}
    try:
        proc = subprocess.run(
            [executable, "-X", "gil=0", "-c", _PROBE], capture_output=True, text=True, timeout=timeout, env=env
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    try:
        facts = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    if facts["gil"] or not facts["ft"]:
        return None
    return FreeThreadedPython(executable=executable, version=facts["version"], source="")


def _candidates(want: str | None) -> list[tuple[str, str]]:
    versions = [v for v in VERSIONS if want is None or v == want]
    found: list[tuple[str, str]] = []
    env_exe = os.environ.get("FT_PYTHON")
    if env_exe:
        found.append(("FT_PYTHON", shutil.which(env_exe) or env_exe))
    for v in versions:
        exe = shutil.which(f"python{v}t")
        if exe:
            found.append(("PATH", exe))
    uv = shutil.which("uv")
    if uv:
        for v in versions:
            try:
                proc = subprocess.run(
                    [uv, "python", "find", "--no-python-downloads", f"{v}t"], capture_output=True, text=True, timeout=30
                )
            except (OSError, subprocess.SubprocessError):
                continue
            if proc.returncode == 0 and proc.stdout.strip():
                found.append(("uv", proc.stdout.strip().splitlines()[-1]))
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    for v in versions:
        for exe in sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{v}*t", "bin", f"python{v}t")), reverse=True):
            found.append(("pyenv", exe))
    for v in versions:
        found.append(("build", str(cache_dir() / f"python-{v}t" / "bin" / f"python{v}t")))
    return found


def find_free_threaded_python(want: str | None = None, build: bool = False) -> FreeThreadedPython:
    """The first free-threaded interpreter found (``want``: "3.13" or "3.14", or None for either).

    With ``build=True`` and nothing found, run the project's build script (CPython 3.13).
    Raises ``NoFreeThreadedPython`` with what was tried and how to get one.
    """
    tried: list[str] = []
    for source, exe in _candidates(want):
        if source != "FT_PYTHON" and not os.path.exists(exe):
            continue
        found = probe(exe)
        if found is not None:
            return FreeThreadedPython(found.executable, found.version, source)
        tried.append(f"{exe} ({source}): not a free-threaded interpreter")
    if build and want in (None, "3.13") and BUILD_SCRIPT.exists():
        try:
            proc = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True)
        except OSError as exc:  # no bash
            tried.append(f"{BUILD_SCRIPT} could not run: {exc}")
        else:
            exe = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            found = probe(exe) if proc.returncode == 0 and exe else None
            if found is not None:
                return FreeThreadedPython(found.executable, found.version, "build")
            tried.append(f"{BUILD_SCRIPT} failed: {proc.stderr.strip()[-800:]}")
    raise NoFreeThreadedPython(how_to_get_one(want, tried))


def how_to_get_one(want: str | None = None, tried: list[str] | None = None) -> str:
    version = want or "3.13"
    lines = [f"no free-threaded CPython {want or '3.13/3.14'} found."]
    if tried:
        lines += ["Tried:"] + [f"  {t}" for t in tried]
    lines += [
        "Get one with any of:",
        f"  bash {BUILD_SCRIPT}   (builds CPython 3.13 with --disable-gil once, cached in {cache_dir()})",
        f"  uv python install {version}t",
        f"  pyenv install {version}t",
        "  or set FT_PYTHON=/path/to/python3.13t",
    ]
    return "\n".join(lines)
