"""Reading files that come from the user or from outside: whole, but never more than a cap."""
from __future__ import annotations

from ..errors import UsageError


def read_capped(path: str, limit: int, what: str) -> bytes:
    """The bytes of `path` (at most `limit`), or one UsageError saying what could not be read and why."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit} bytes")
    return data
