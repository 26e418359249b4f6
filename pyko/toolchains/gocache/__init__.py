"""Go's build cache kept in a registry, in one package: its files on disk (layout.py: a/<action>,
o/<output>, and the used/<pid> log of what a build read and wrote), the GOCACHEPROG server `go` runs
over them (server.py), and the OCI artifact it is stored as in a registry (artifact.py). Which cache
to use comes from the plan (plan/caches.py); verifying, pulling, saving and signing it around a build
is commands/go_build_cache.py's.
"""
from __future__ import annotations

import os
import re
from typing import Dict, Mapping, Tuple

from ..go import find_go, go_version

#: The module `go` runs as its GOCACHEPROG (python -m …).
SERVER = "pyko.toolchains.gocache.server"


#: The first Go whose GOCACHEPROG is on by default (experimental before).
CACHEPROG_SINCE = (1, 24)


def cacheprog_environment(environ: Mapping[str, str], root: str) -> Tuple[Dict[str, str], str, str]:
    """(variables that make `go` use pyko's cache server on `root`, the Go version, a reason it cannot:
    "" when it can). The server runs in this Python, importing this pyko."""
    import sys

    go = find_go(environ)
    version = go_version(go, environ)
    found = re.match(r"go(\d+)\.(\d+)", version)
    if not found or (int(found.group(1)), int(found.group(2))) < CACHEPROG_SINCE:
        return {}, version, (f"{version or 'this Go'} has no GOCACHEPROG (Go 1.24 or later has): the registry's "
                             "Go cache is not used, Go's own cache is")
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    python_path = os.pathsep.join(p for p in (package_root, environ.get("PYTHONPATH", "")) if p)
    if any(" " in part for part in (sys.executable, root)):
        return {}, version, "GOCACHEPROG cannot name a path with spaces: the registry's Go cache is not used"
    return ({"GOCACHEPROG": f"{sys.executable} -m {SERVER} {root}", "PYTHONPATH": python_path},
            version, "")
