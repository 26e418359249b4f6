"""Go import paths from go.mod alone, without running `go`: what the plan needs to match ko's
import-path keys (baseImageOverrides, basePolicies) against the directories it builds.

`go list` stays the authority for building (go.py) and for import paths outside the main
module (drivers.locate); this reads only the `module` line of the nearest go.mod.
"""
from __future__ import annotations

import os
import re
from typing import Optional, Tuple

from ..errors import UsageError
from ..util.files import read_capped

MAX_GO_MOD = 1 << 20
_MODULE = re.compile(r'^\s*module\s+("([^"]+)"|`([^`]+)`|(\S+))', re.MULTILINE)


def module_of(directory: str) -> Optional[Tuple[str, str]]:
    """(module path, module directory) of the nearest go.mod at or above `directory`, or None."""
    here = os.path.abspath(directory)
    while True:
        go_mod = os.path.join(here, "go.mod")
        if os.path.isfile(go_mod):
            path = module_path(go_mod)
            return (path, here) if path else None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def module_path(go_mod: str) -> str:
    """The module path a go.mod declares, or "" if it cannot be read or declares none."""
    try:
        text = read_capped(go_mod, MAX_GO_MOD, "go.mod").decode("utf-8", "replace")
    except UsageError:
        return ""
    text = re.sub(r"//[^\n]*", "", text)
    match = _MODULE.search(text)
    return next((group for group in match.groups()[1:] if group), "") if match else ""


def import_path_of(directory: str) -> str:
    """The import path of the package in `directory`, or "" when it is in no module."""
    found = module_of(directory)
    if not found:
        return ""
    module, root = found
    relative = os.path.relpath(os.path.abspath(directory), root)
    return module if relative == "." else f"{module}/{relative.replace(os.sep, '/')}"


def directory_of(import_path: str, module: str, root: str) -> str:
    """Where `import_path` lives if it is in the module `module` rooted at `root`, else ""."""
    if import_path == module:
        return root
    if not import_path.startswith(module + "/"):
        return ""
    parts = import_path[len(module) + 1:].split("/")
    if any(part in ("", ".", "..") for part in parts):
        return ""
    return os.path.join(root, *parts)
