"""The files of pyko's Go build cache directory, shared by the GOCACHEPROG server that Go talks to
(server.py) and the registry artifact that fills and saves it (artifact.py).

  a/<action id, hex>   "<output id, hex> <size> <unix nanoseconds>": what Go stored under the action
  o/<output id, hex>   the output's bytes; its SHA-256 is the output id, checked before Go sees it
  used/<pid>           "hit <action>" or "put <action>" per line: what each server process served or
                       stored, read back when the cache is saved (only what a build used is kept)

Names are 64 lowercase hex digits and nothing else, so no name from a registry's layer can become
another path.
"""
from __future__ import annotations

import hashlib
import os
import re
from typing import IO, Optional, Set, Tuple

from ...util.atomic import atomic_file

ENTRY = re.compile(r"(a|o)/[0-9a-f]{64}\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
MAX_ACTION_FILE = 256
#: Bounds of an action entry's numbers: an output of at most 2 GiB, a time before the year 2262
#: (what a signed 64-bit count of nanoseconds holds, and what Go's time.Time takes from the server).
MAX_OUTPUT = 1 << 31
MAX_NANOS = (1 << 63) - 1
_NUMBER = re.compile(r"[0-9]{1,19}\Z")


def action_path(root: str, action: str) -> str:
    return os.path.join(root, "a", action)


def output_path(root: str, output: str) -> str:
    return os.path.join(root, "o", output)


def read_action(root: str, action: str) -> Optional[Tuple[str, int, int]]:
    """(output id, size, time in ns) stored under `action`, or None if absent or malformed (a
    number out of bounds included: an entry is data from a registry until it is read here)."""
    try:
        with open(action_path(root, action), "rb") as f:
            return parse_action(f.read(MAX_ACTION_FILE + 1))
    except OSError:
        return None


def parse_action(data: bytes) -> Optional[Tuple[str, int, int]]:
    """An action entry's (output id, size, time in ns), or None if it is not a well-formed one."""
    if len(data) > MAX_ACTION_FILE:
        return None
    try:
        fields = data.decode("ascii").split()
    except UnicodeDecodeError:
        return None
    if len(fields) != 3 or not _HEX64.match(fields[0]) or not _NUMBER.match(fields[1]) \
            or not _NUMBER.match(fields[2]):
        return None
    size, nanos = int(fields[1]), int(fields[2])
    if size > MAX_OUTPUT or nanos > MAX_NANOS:
        return None
    return fields[0], size, nanos


def output_is_intact(root: str, output: str, size: int) -> bool:
    """Whether o/<output> holds exactly `size` bytes whose SHA-256 is `output`."""
    path = output_path(root, output)
    try:
        if os.path.getsize(path) != size:
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == output


def write_atomically(path: str, data: bytes) -> None:
    """Written whole or not at all: two go processes may put the same entry at once. Not synced: an
    entry is checked by its hash before it is served, so a torn one is a miss."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_file(path, durable=False) as f:
        f.write(data)


# --- what a build used: one log per server process, read back when the cache is saved -------------
USED = "used"


def use_log(root: str) -> IO[str]:
    """This server process's log (used/<pid>), opened for appending one line per action."""
    os.makedirs(os.path.join(root, USED), exist_ok=True)
    return open(os.path.join(root, USED, str(os.getpid())), "a")


def record_use(log: IO[str], kind: str, action: str) -> None:
    """`kind` is "hit" (served) or "put" (stored)."""
    log.write(f"{kind} {action}\n")


def used_actions(root: str) -> Tuple[Set[str], Set[str]]:
    """(actions served, actions stored) by every server process of this build."""
    hits: Set[str] = set()
    puts: Set[str] = set()
    directory = os.path.join(root, USED)
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        with open(os.path.join(directory, name)) as f:
            for line in f:
                kind, _, action = line.strip().partition(" ")
                (hits if kind == "hit" else puts).add(action)
    return hits, puts
