"""Content digests (`algorithm:hex`), validated before anything uses them.

A digest from outside pyko (a registry's manifest, a layout's index.json, a
header) names a file in a layout or cache and a path in a registry URL. Only
the two algorithms the OCI image spec registers, in their exact lowercase
form, are accepted, so nothing like `sha256:../../etc/passwd` ever reaches
os.path.join or a URL.
"""
from __future__ import annotations

import hashlib
import re
from typing import Tuple

from ..errors import MalformedInput

_PATTERNS = {"sha256": re.compile(r"[a-f0-9]{64}"), "sha512": re.compile(r"[a-f0-9]{128}")}


def is_digest(text: object) -> bool:
    if not isinstance(text, str):
        return False
    algorithm, sep, hex_part = text.partition(":")
    pattern = _PATTERNS.get(algorithm)
    return bool(sep and pattern and pattern.fullmatch(hex_part))


def check_digest(text: object, where: str = "") -> str:
    """`text` if it is a valid digest; else MalformedInput naming `where` it came from."""
    if is_digest(text):
        return text  # type: ignore[return-value]
    shown = repr(text)[:90]
    raise MalformedInput(f"{where + ': ' if where else ''}{shown} is not a valid digest "
                         "(expected sha256:<64 hex digits> or sha512:<128 hex digits>)")


def digest_parts(digest: str) -> Tuple[str, str]:
    """(algorithm, hex) of a valid digest: the two path components `blobs/<alg>/<hex>`."""
    algorithm, _, hex_part = check_digest(digest).partition(":")
    return algorithm, hex_part


def hasher_for(digest: str) -> "hashlib._Hash":
    """A fresh hash object of `digest`'s algorithm, to check content against it."""
    return hashlib.new(digest_parts(digest)[0])


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def file_digest(path: str, algorithm: str = "sha256") -> str:
    """`algorithm:hex` of a file's content, read in pieces (never whole into memory)."""
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    return f"{algorithm}:{hasher.hexdigest()}"


def sha256_digest(data: bytes) -> str:
    """The digest pyko gives everything it writes."""
    return digest_of(data)
