"""A cache of finished layers: an unchanged binary is never tarred, gzipped or hashed again.

Key: everything that decides the layer's bytes: the layer recipe (tar format,
deflate library, version and level, block size: layer.recipe), the mtime (SOURCE_DATE_EPOCH), and for
each entry its path, kind, mode, owner, link target and the SHA-256 of its
content. Value: a small record (compressed digest and size, diff ID) beside the
compressed blob itself in the content-addressed cache (`<cache>/blobs/sha256`).

Invalidation is by key only: a changed binary, mode, epoch or recipe is a new
key. A record is trusted only after the blob it names is found with that exact
size and digest by the blob cache (blob_cache.py: hashed once per run, a damaged
copy removed); a missing or damaged one is rebuilt, never used. Writes are
atomic, so concurrent runs can share the cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from typing import TYPE_CHECKING, Iterable, Mapping, Optional, Tuple, Type

from ..util.atomic import atomic_file
from . import mediatypes
from .blob import Descriptor, FileBlob, Layer
from .blob_cache import BlobCache
from .digest import file_digest, is_digest, sha256_digest
from .layer import TarEntry, recipe, write_layer
from .pgzip import Deflater, pinned

MAX_RECORD = 4096


def layer_key(entries: Iterable[TarEntry], mtime: int, deflater: Optional[Deflater] = None) -> str:
    """The cache key of a layer: a hash of everything its bytes depend on."""
    deflater = deflater or pinned()
    described = []
    for entry in sorted(entries, key=lambda e: e.path):
        if entry.kind == "file":
            content = sha256_digest(entry.data) if entry.data is not None else file_digest(entry.source_file())
        else:
            content = ""
        described.append([entry.path, entry.kind, entry.mode, entry.uid, entry.gid, entry.linkname, content])
    text = json.dumps({"recipe": recipe(deflater), "mtime": int(mtime), "entries": described},
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class LayerCache:
    def __init__(self, root: str, deflater: Optional[Deflater] = None):
        self.deflater = deflater or pinned()
        self.cache = BlobCache(root)
        self.blobs = self.cache.directory()
        self.records = os.path.join(root, "layers")
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def layer(self, entries: Iterable[TarEntry], mtime: int = 0,
              history: Optional[Mapping[str, object]] = None) -> Layer:
        """The layer of `entries`, from the cache when it holds a verified copy, else written (and kept)."""
        entries = list(entries)
        key = layer_key(entries, mtime, self.deflater)
        found = self._lookup(key)
        if found is not None:
            with self._lock:
                self.hits += 1
            desc, diff_id = found
            return Layer(FileBlob(desc, os.path.join(self.blobs, desc.hex)), diff_id, dict(history or {}))
        layer = write_layer(entries, self.blobs, mtime, history, self.deflater)
        self._record(key, layer)
        with self._lock:
            self.misses += 1
        return layer

    def _lookup(self, key: str) -> Optional[Tuple[Descriptor, str]]:
        try:
            with open(os.path.join(self.records, key + ".json"), "rb") as f:
                record = json.loads(f.read(MAX_RECORD))
            digest, size, diff_id = record["digest"], record["size"], record["diff_id"]
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None
        if not (is_digest(digest) and is_digest(diff_id) and isinstance(size, int) and size >= 0):
            return None
        if not self.cache.has(digest, size):
            return None
        return Descriptor(mediatypes.OCI_LAYER_GZIP, digest, size), diff_id

    def _record(self, key: str, layer: Layer) -> None:
        os.makedirs(self.records, exist_ok=True)
        record = {"digest": layer.descriptor.digest, "size": layer.descriptor.size, "diff_id": layer.diff_id}
        # Readers see all of the record or none of it.
        with atomic_file(os.path.join(self.records, key + ".json"), durable=False) as f:
            f.write(json.dumps(record).encode())


if TYPE_CHECKING:   # checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    from .app import LayerMaker

    _checked: Type[LayerMaker] = LayerCache

