"""Cargo's own files, found the way cargo finds them: from a crate's directory upwards."""
from __future__ import annotations

import os
import sys
from typing import Iterator, Optional

from ..errors import UsageError
from ..util.files import read_capped
from ..util.jsontypes import Table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def upwards(directory: str) -> Iterator[str]:
    """`directory` (resolved), then each of its parents up to the root."""
    current = os.path.realpath(directory)
    while True:
        yield current
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent


def find_lock(crate_dir: str) -> str:
    """The workspace's Cargo.lock: the nearest one from `crate_dir` upwards, or "" if there is none."""
    for directory in upwards(crate_dir):
        candidate = os.path.join(directory, "Cargo.lock")
        if os.path.isfile(candidate):
            return candidate
    return ""


def read_toml(path: str, limit: int) -> Optional[Table]:
    """The TOML document in the first `limit` bytes of `path`, or None if it cannot be read or parsed
    (a hint pyko can do without: cargo itself reports a broken file)."""
    try:
        table: Table = tomllib.loads(read_capped(path, limit, "cargo's file").decode("utf-8"))
        return table
    except (UsageError, ValueError):
        return None
