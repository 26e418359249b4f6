"""Reproducible layers: a sorted tar, fixed owners and times, a bare gzip header.

The same entries and mtime always give the same bytes: entries are sorted
with every parent directory written explicitly before its children, owners
are numeric with empty names, every mtime is one integer, and the gzip header
carries neither a file name nor a time. gzip runs on every core in fixed-size
blocks with the zlib-ng that pyko pins (pgzip.py), so the bytes do not depend on
the machine either: not its core count, its CPU or the zlib its Python links. The tar
and gzip streams are hashed as they are written, so a layer is never held in
memory whole.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import io
import os
import posixpath
import tarfile
import threading
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, List, Mapping, Optional, cast

from ..util.atomic import atomic_file_named_later
from . import mediatypes
from .blob import Descriptor, FileBlob, Layer
from .pgzip import BLOCK, Deflater, ParallelGzipWriter, Writable, pinned


def recipe(deflater: Deflater) -> str:
    """Names everything that decides a layer's bytes besides its entries and mtime: the tar format,
    the deflate library, its version and level, and the block size. A change to any of them must
    change it (the layer cache keys on it, so one deflater's bytes are never served as another's)."""
    return f"pyko-layer/3 pax {deflater.recipe} blocks-{BLOCK}"

_pool_lock = threading.Lock()
_pool: Optional[cf.ThreadPoolExecutor] = None


def _compression_pool() -> cf.ThreadPoolExecutor:
    """One pool for every layer being written: a thread per core."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = cf.ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="pyko-gzip")
        return _pool


@dataclass(frozen=True)
class TarEntry:
    """One path in a layer. Build them with file_entry/dir_entry/symlink_entry."""

    path: str
    kind: str  # "file", "dir" or "symlink"
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    data: Optional[bytes] = field(default=None, repr=False)
    source: Optional[str] = None  # a file on disk to copy, instead of `data`
    linkname: str = ""

    def source_file(self) -> str:
        """The file a "file" entry without `data` is copied from (file_entry makes it one or the other)."""
        if self.source is None:
            raise ValueError(f"layer entry {self.path} has neither data nor a source file")
        return self.source


def _clean(path: str) -> str:
    norm = posixpath.normpath("/" + path.replace(os.sep, "/")).lstrip("/")
    if not norm or norm == ".":
        raise ValueError(f"empty path in layer: {path!r}")
    return norm


def file_entry(path: str, data: Optional[bytes] = None, source: Optional[str] = None,
               mode: int = 0o644, uid: int = 0, gid: int = 0) -> TarEntry:
    if (data is None) == (source is None):
        raise ValueError("a file entry needs exactly one of data or source")
    return TarEntry(_clean(path), "file", mode, uid, gid, data=data, source=source)


def dir_entry(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> TarEntry:
    return TarEntry(_clean(path), "dir", mode, uid, gid)


def symlink_entry(path: str, target: str) -> TarEntry:
    return TarEntry(_clean(path), "symlink", 0o777, linkname=target)


def _with_parents(entries: Iterable[TarEntry]) -> List[TarEntry]:
    """Entries sorted parents-first, with a root-owned 0755 entry for every
    parent directory nobody listed; a path listed twice is an error."""
    by_path = {}
    for entry in entries:
        if entry.path in by_path:
            raise ValueError(f"duplicate path in layer: /{entry.path}")
        by_path[entry.path] = entry
    for path in list(by_path):
        parent = posixpath.dirname(path)
        while parent and parent not in by_path:
            by_path[parent] = dir_entry(parent)
            parent = posixpath.dirname(parent)
    # Sorting on components puts "a" and everything under it before "a-b".
    return [by_path[p] for p in sorted(by_path, key=lambda p: p.split("/"))]


class _HashingWriter:
    """A write-only stream that hashes and counts what passes to `sink`."""

    def __init__(self, sink: Writable):
        self.sink = sink
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.sink.write(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.sink.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def _tarinfo(entry: TarEntry, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path)
    info.mtime = int(mtime)  # an int: a float makes the PAX writer add a record
    info.mode = entry.mode & 0o7777
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = info.gname = ""
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif entry.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, entry.linkname
    else:
        info.type = tarfile.REGTYPE
        info.size = len(entry.data) if entry.data is not None else os.stat(entry.source_file()).st_size
    return info


def write_layer(entries: Iterable[TarEntry], dest_dir: str, mtime: int = 0,
                history: Optional[Mapping[str, object]] = None, deflater: Optional[Deflater] = None) -> Layer:
    """Write a gzip layer holding `entries` into `dest_dir`, named by digest (compressed by
    `deflater`, by default the pinned zlib-ng)."""
    deflater = deflater or pinned()
    ordered = _with_parents(entries)
    os.makedirs(dest_dir, exist_ok=True)
    # Named by its digest once written (the name is asked for after the body has run, so `compressed`
    # is bound by then); not synced: the layer cache checks every entry it reuses.
    with atomic_file_named_later(dest_dir, lambda: compressed.digest.split(":", 1)[1],
                                 durable=False) as out:
        compressed = _HashingWriter(out)
        workers = os.cpu_count() or 1
        with ParallelGzipWriter(compressed, deflater, workers, _compression_pool()) as gz:
            uncompressed = _HashingWriter(gz)
            # tarfile's writer needs only write() and tell() of its file object, which _HashingWriter has.
            with tarfile.open(fileobj=cast(BinaryIO, uncompressed), mode="w", format=tarfile.PAX_FORMAT) as tar:
                for entry in ordered:
                    _add(tar, entry, mtime)
    final = os.path.join(dest_dir, compressed.digest.split(":", 1)[1])
    desc = Descriptor(mediatypes.OCI_LAYER_GZIP, compressed.digest, compressed.size)
    return Layer(FileBlob(desc, final), uncompressed.digest, dict(history or {}))


def _add(tar: tarfile.TarFile, entry: TarEntry, mtime: int) -> None:
    info = _tarinfo(entry, mtime)
    if entry.kind != "file":
        tar.addfile(info)
    elif entry.data is not None:
        tar.addfile(info, io.BytesIO(entry.data))
    else:
        with open(entry.source_file(), "rb") as src:
            if os.fstat(src.fileno()).st_size != info.size:
                raise OSError(f"{entry.source} changed while it was being packed")
            tar.addfile(info, src)

