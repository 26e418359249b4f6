"""Reading files that come from the user or from outside: regular files only, whole, but never more than a cap."""
from __future__ import annotations

import os
import stat

from ..errors import UsageError


def read_capped(path: str, limit: int, what: str) -> bytes:
    """The bytes of `path` (at most `limit`), or one UsageError saying what could not be read and why.

    Opened without blocking and checked on the open file: a FIFO or a device (which would block
    or never end) is refused, and the path cannot be swapped between the check and the read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise UsageError(f"{what} {path} is not a regular file (a FIFO, device or directory): "
                             "give the file itself")
        try:
            data = f.read(limit + 1)
        except OSError as err:
            raise UsageError(f"cannot read {what} {path}: {err.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit} bytes")
    return data
