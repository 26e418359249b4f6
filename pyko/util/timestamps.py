"""Build time: SOURCE_DATE_EPOCH, or 0 so that builds are reproducible by default."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from ..errors import UsageError


def source_date_epoch(environ: Mapping[str, str]) -> int:
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise UsageError(
            f"SOURCE_DATE_EPOCH={value!r} is not a whole number of seconds since 1970; "
            "set it to e.g. $(git log -1 --format=%ct) or unset it"
        )
    return int(value)


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
