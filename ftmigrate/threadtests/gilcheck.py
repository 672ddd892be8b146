"""Which installed distributions turn the GIL back on.

Each distribution's top-level modules and extension modules are imported in a fresh
process of the venv's free-threaded interpreter, GIL left at its default (no
``PYTHON_GIL``), with ``-v``: CPython then names every extension module that has not
declared ``Py_mod_gil`` ("# loading module 'x', which requires the GIL") and warns, once,
with the first one ("The global interpreter lock (GIL) has been enabled to load module
'x'"). A module is blamed on the distribution that owns its top-level package, so a
package that merely imports a GIL-needing dependency is not blamed for it.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass, field

from ftmigrate.threadtests.env import TARGET_DIR, ProjectEnv

PURE, FREE_THREADED, NEEDS_GIL, IMPORT_FAILS = (
    "pure Python", "extension, supports free-threading", "extension re-enables the GIL", "import fails",
)
# Installed by verify itself, not the project's dependencies.
TOOLING = frozenset({"pip", "pytest-run-parallel"})
_REQUIRES_GIL = re.compile(r"^# loading module '([^']+)', which requires the GIL$", re.M)
_GIL_WARNING = re.compile(r"RuntimeWarning: The global interpreter lock \(GIL\) has been enabled to load module '([^']+)'")
IMPORT_TIMEOUT = 300


@dataclass
class DependencyGil:
    name: str
    version: str
    kind: str  # PURE, FREE_THREADED, NEEDS_GIL or IMPORT_FAILS
    installed_from: str  # "cp313t wheel", "pure wheel", "built from sdist", "editable", "preinstalled"
    gil_modules: list[str] = field(default_factory=list)  # its modules that re-enable the GIL
    extensions: int = 0
    errors: list[str] = field(default_factory=list)
    is_project: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GilCheck:
    dependencies: list[DependencyGil]

    @property
    def reenabled_by(self) -> list[str]:
        return [m for d in self.dependencies for m in d.gil_modules]

    @property
    def stays_off(self) -> bool:
        return not self.reenabled_by

    def to_dict(self) -> dict:
        return {"stays_off": self.stays_off, "reenabled_by": self.reenabled_by,
                "dependencies": [d.to_dict() for d in self.dependencies]}


def _import(env: ProjectEnv, modules: list[str]) -> tuple[list[dict], set[str], str]:
    """What importing ``modules`` did, the modules that required the GIL, and trouble (crash, timeout)."""
    run_env = env.run_env()
    run_env.pop("PYTHON_GIL")  # the default: an extension without Py_mod_gil turns the GIL on
    try:
        proc = subprocess.run(
            [env.python, "-v", str(TARGET_DIR / "importcheck.py"), json.dumps(modules)],
            capture_output=True, text=True, env=run_env, timeout=IMPORT_TIMEOUT, cwd=str(env.folder),
        )
    except subprocess.TimeoutExpired:
        return [], set(), f"importing took more than {IMPORT_TIMEOUT}s"
    gil = set(_REQUIRES_GIL.findall(proc.stderr)) | set(_GIL_WARNING.findall(proc.stderr))
    marker = proc.stdout.rfind("FTMIGRATE-IMPORTS ")
    if marker < 0:
        return [], gil, f"the import process died (exit code {proc.returncode})"
    return json.loads(proc.stdout[marker + len("FTMIGRATE-IMPORTS "):]), gil, ""


def _owner(module: str, owners: dict[str, str]) -> str | None:
    return owners.get(module.split(".")[0])


def check_distributions(env: ProjectEnv, distributions: list[dict]) -> GilCheck:
    """The GIL check of every distribution ``env.inventory`` listed (the project's own too)."""
    owners = {top: d["name"] for d in distributions for top in d["top_level"]}
    checked = []
    for dist in sorted(distributions, key=lambda d: d["name"].lower()):
        key = dist["name"].lower().replace("_", "-")
        if key in TOOLING:
            continue
        modules = list(dict.fromkeys(dist["top_level"] + dist["extensions"]))
        results, gil, trouble = _import(env, modules) if modules else ([], set(), "")
        own_gil = sorted(m for m in gil if _owner(m, owners) == dist["name"] or m in dist["extensions"])
        errors = [f"{r['module']}: {r['error']}" for r in results if r["error"] and r["module"] in dist["top_level"]]
        if trouble:
            errors.append(trouble)
        if own_gil:
            kind = NEEDS_GIL
        elif errors:
            kind = IMPORT_FAILS
        else:
            kind = FREE_THREADED if dist["extensions"] else PURE
        source = env.sources.get(dist["name"].lower()) or env.sources.get(key) or "preinstalled"
        checked.append(DependencyGil(
            name=dist["name"], version=dist["version"], kind=kind, installed_from=source, gil_modules=own_gil,
            extensions=len(dist["extensions"]), errors=errors, is_project=source == "editable",
        ))
    return GilCheck(checked)
