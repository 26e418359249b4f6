"""The content-addressed blob cache, `<cache>/blobs/<alg>/<hex>`, shared by pulled bases
and the layer cache: nothing in it is trusted before it is hashed.

A file is written only after its bytes were verified, and a file found there is
hashed again before it is served (once per run and file, keyed by its size,
mtime and inode), so a damaged or planted file is removed and fetched or built
again, never used. Writes are atomic, so concurrent runs can share it.
"""
from __future__ import annotations

import os
import threading
from typing import Dict, Optional, Tuple

from ..util.atomic import write_bytes
from .digest import digest_parts, file_digest


class BlobCache:
    """Verified blobs by digest under `<root>/blobs`."""

    def __init__(self, root: str):
        self.root = os.path.join(root, "blobs")
        os.makedirs(os.path.join(self.root, "sha256"), exist_ok=True)
        self._verified: Dict[str, Tuple[int, int, int]] = {}
        self._lock = threading.Lock()

    def directory(self, algorithm: str = "sha256") -> str:
        """Where blobs of one digest algorithm live (a new layer is written straight into it)."""
        return os.path.join(self.root, algorithm)

    def path(self, digest: str) -> str:
        return os.path.join(self.root, *digest_parts(digest))

    def has(self, digest: str, size: Optional[int] = None) -> bool:
        """Is a verified copy of `digest` (of `size` bytes) here? A bad copy is removed."""
        path = self.path(digest)
        try:
            st = os.stat(path)
        except OSError:
            return False
        if not os.path.isfile(path) or (size is not None and st.st_size != size):
            return False
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        with self._lock:
            if self._verified.get(digest) == stamp:
                return True
        if file_digest(path, digest_parts(digest)[0]) != digest:
            os.unlink(path)
            return False
        with self._lock:
            self._verified[digest] = stamp
        return True

    def read(self, digest: str, limit: int) -> bytes:
        with open(self.path(digest), "rb") as f:
            return f.read(limit + 1)

    def write(self, digest: str, data: bytes) -> None:
        path = self.path(digest)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_bytes(path, data)
