"""Image names, tags and the normalised form docker and containerd use."""
from __future__ import annotations

import os
import re

from .errors import UsageError

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_BAD_NAME_CHARS = re.compile(r"[^a-z0-9._-]+")


def image_name(path: str) -> str:
    """The image name for a source path: its directory's base name, made a valid
    repository component (lowercase; other characters become '-')."""
    base = os.path.basename(os.path.realpath(path)) or "app"
    name = _BAD_NAME_CHARS.sub("-", base.lower()).strip("._-")
    return name or "app"


def check_tag(tag: str) -> str:
    if not _TAG.match(tag):
        raise UsageError(f"invalid tag {tag!r}: use up to 128 letters, digits, '_', '.' or '-', "
                         "not starting with '.' or '-'")
    return tag


def _has_domain(name: str) -> bool:
    first, sep, _ = name.partition("/")
    return bool(sep) and (first == "localhost" or "." in first or ":" in first or first != first.lower())


def normalized(name: str) -> str:
    """docker's full form: `hello` -> `docker.io/library/hello`, `me/app` -> `docker.io/me/app`."""
    if _has_domain(name):
        return name
    return f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"
