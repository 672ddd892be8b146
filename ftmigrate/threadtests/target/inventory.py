"""Print, as JSON, every distribution installed in this interpreter's environment:
name, version, its importable top-level modules and its extension modules.

Runs on the target interpreter inside verify's venv: standard library only.
"""

import importlib.machinery
import importlib.metadata
import json
import os
import sys
from urllib.parse import unquote, urlparse

EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def _module_name(parts):
    """``pkg/sub/_speed.cpython-313t-x86_64-linux-gnu.so`` -> ``pkg.sub._speed``; None if not a module."""
    if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] in ("..", "bin", "__pycache__"):
        return None
    if "__pycache__" in parts:
        return None
    name = parts[-1]
    for suffix in EXTENSION_SUFFIXES + (".py",):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            if not stem.isidentifier() or not all(p.isidentifier() for p in parts[:-1]):
                return None
            dotted = list(parts[:-1]) + ([] if stem == "__init__" else [stem])
            return ".".join(dotted) if dotted else None
    return None


NOT_PACKAGES = {"tests", "test", "testing", "docs", "doc", "examples", "benchmarks", "scripts"}
SKIP_DIRS = {".git", ".tox", ".nox", ".venv", "venv", "build", "node_modules", "__pycache__"}


def _tree_packages(root):
    base = os.path.join(root, "src") if os.path.isdir(os.path.join(root, "src")) else root
    return {
        name for name in os.listdir(base)
        if name.isidentifier() and name not in NOT_PACKAGES and os.path.isfile(os.path.join(base, name, "__init__.py"))
    }


def _tree_extensions(root, top):
    """Extension modules an editable install built inside its source tree (under ``top`` packages)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            if name.endswith(EXTENSION_SUFFIXES):
                parts = os.path.relpath(os.path.join(folder, name), root).split(os.sep)
                starts = [i for i, part in enumerate(parts[:-1]) if part in top] or [len(parts) - 1]
                module = _module_name(parts[starts[0]:])
                if module is not None and module.split(".")[0] in top:
                    found.append(module)
    return found


def describe(dist):
    top, extensions = set(), []
    for file in dist.files or ():
        parts = file.parts
        module = _module_name(parts)
        if module is None or module.startswith("__"):  # e.g. setuptools' __editable___x_finder
            continue
        top.add(module.split(".")[0])
        if parts[-1].endswith(EXTENSION_SUFFIXES):
            extensions.append(module)
    declared = (dist.read_text("top_level.txt") or "").split()
    if not top:
        top.update(name for name in declared if name.isidentifier())
    direct_url = json.loads(dist.read_text("direct_url.json") or "null")
    if direct_url and (direct_url.get("dir_info") or {}).get("editable"):
        root = unquote(urlparse(direct_url["url"]).path)
        if not top:  # an editable install that names no modules (a bare .pth): the tree's packages
            top.update(_tree_packages(root))
        extensions += _tree_extensions(root, top)
    return {
        "name": dist.metadata["Name"],
        "version": dist.version,
        "top_level": sorted(top),
        "extensions": sorted(extensions),
        "wheel_tags": [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines() if line.startswith("Tag:")],
        "direct_url": direct_url,
    }


seen = set()
found = []
for dist in importlib.metadata.distributions():
    key = (dist.metadata["Name"] or "").lower()
    if key and key not in seen:
        seen.add(key)
        found.append(describe(dist))
json.dump(found, sys.stdout)
