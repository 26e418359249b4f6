"""gzip on every core, byte-identical whatever the number of cores, the CPU or the host's zlib.

The stream is cut into fixed-size blocks (BLOCK bytes of input). Each block is
deflated on its own, primed with the last 32 KiB of the block before it (so
compression hardly suffers), and ended with a sync flush; the last block ends
the stream. The deflate outputs, in order, form one valid deflate stream: the
output depends only on the input, the level and BLOCK, never on how many
threads ran or in which order they finished (zlib releases the GIL, so threads
really run in parallel). A stream of one block is exactly what
gzip.GzipFile(mtime=0, filename="") writes.

Memory stays bounded: at most 2 x workers blocks are in flight.

Which deflate makes the bytes is a Deflater: by default zlib-ng as the zlib-ng package pins it
(the library is inside its wheel, at an exact version pyko depends on), so a layer's bytes depend
on the input and pyko's own pinned dependencies only, never on the zlib the Python runtime happens
to link (Debian's zlib, Fedora's zlib-ng-compat and a bundled zlib-ng all give different bytes).
Its output was checked identical on x86-64 (AVX-512, and SSE4.2-only and baseline x86-64 under
qemu) and on aarch64 under qemu; ISA-L's was not (its x86 and Arm code paths choose other
matches), so it is not used. Level 2: about 5x zlib level 6's speed for layers under 10% larger
(docs/performance.md). The runtime's own zlib stays available as `compat()`, named as such in the
layer recipe and the provenance.
"""
from __future__ import annotations

import collections
import concurrent.futures as cf
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Optional, Protocol

from ..errors import UsageError

BLOCK = 1 << 20          # part of the layer recipe: changing it changes digests
WINDOW = 32 << 10        # deflate's window: the dictionary each block is primed with
PINNED_LEVEL = 2
COMPAT_LEVEL = 6


class Writable(Protocol):
    """Where compressed bytes go: a file, or a writer that hashes on the way."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class Deflater:
    """A deflate implementation at one level: everything besides the input that decides the bytes."""

    library: str                        # "zlib-ng" (pinned) or "zlib" (the runtime's, --compression-compat)
    version: str                        # the library's own version
    level: int
    module: Any = field(default=zlib, compare=False, repr=False)   # zlib's API: compressobj, constants

    @property
    def recipe(self) -> str:
        """What a layer cache key and a recipe name: bytes made by one Deflater are never another's."""
        return f"{self.library}-{self.version}-level-{self.level}"

    def provenance(self) -> Dict[str, object]:
        return {"library": self.library, "version": self.version, "level": self.level}


def pinned() -> Deflater:
    """zlib-ng from the zlib-ng package pyko pins: the same bytes on every machine."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        raise UsageError("pyko makes reproducible layers with the zlib-ng package, which is not installed (no "
                         "wheel for this platform?): pip install 'zlib-ng==1.1.0', or build with "
                         "--compression-compat to use this Python's zlib (other machines may get other digests)"
                         ) from None
    return Deflater("zlib-ng", str(zlib_ng.ZLIBNG_VERSION), PINNED_LEVEL, zlib_ng)   # "2.3.3" (typed as int)


def compat() -> Deflater:
    """The Python runtime's zlib at level 6: pyko's layers before zlib-ng, reproducible only on
    machines whose Python links the same zlib."""
    return Deflater("zlib", zlib.ZLIB_RUNTIME_VERSION, COMPAT_LEVEL, zlib)


def _deflate(deflater: Deflater, block: bytes, dictionary: Optional[bytes], last: bool) -> bytes:
    # The same parameters as gzip.GzipFile, so a one-block stream of the runtime's zlib matches it.
    z = deflater.module
    args = (deflater.level, z.DEFLATED, -z.MAX_WBITS, z.DEF_MEM_LEVEL, 0)
    compressor = z.compressobj(*args, zdict=dictionary) if dictionary else z.compressobj(*args)
    out: bytes = compressor.compress(block) + compressor.flush(z.Z_FINISH if last else z.Z_SYNC_FLUSH)
    return out


def _header(level: int) -> bytes:
    xfl = 2 if level == 9 else 4 if level == 1 else 0
    return b"\x1f\x8b\x08\x00" + struct.pack("<L", 0) + bytes([xfl, 255])  # no name, mtime 0, OS unknown


class ParallelGzipWriter:
    """A write-only binary stream: gzip of what is written goes to `sink` on close()."""

    def __init__(self, sink: Writable, deflater: Deflater, workers: int = 0, pool: Optional[cf.Executor] = None):
        self.sink, self.deflater = sink, deflater
        level = deflater.level
        self.workers = workers or os.cpu_count() or 1
        self._own_pool = pool is None and self.workers > 1
        self._pool = pool if pool is not None else (cf.ThreadPoolExecutor(self.workers) if self._own_pool else None)
        self._buffer = bytearray()
        self._pending: Optional[bytes] = None      # a full block, sent once we know it is not the last
        self._previous_tail: Optional[bytes] = None
        self._in_flight: Deque[Any] = collections.deque()
        self._crc = 0
        self._size = 0
        self._closed = False
        sink.write(_header(level))

    def write(self, data: bytes) -> int:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buffer += data
        while len(self._buffer) > BLOCK or (self._pending is not None and self._buffer):
            if self._pending is not None:
                self._submit(self._pending, last=False)
                self._pending = None
            if len(self._buffer) >= BLOCK:
                self._pending = bytes(self._buffer[:BLOCK])
                del self._buffer[:BLOCK]
            else:
                break
        return len(data)

    def _submit(self, block: bytes, last: bool) -> None:
        dictionary, self._previous_tail = self._previous_tail, block[-WINDOW:]
        if self._pool is None:
            self.sink.write(_deflate(self.deflater, block, dictionary, last))
            return
        self._in_flight.append(self._pool.submit(_deflate, self.deflater, block, dictionary, last))
        while len(self._in_flight) > 2 * self.workers:
            self.sink.write(self._in_flight.popleft().result())

    def flush(self) -> None:
        pass  # blocks are cut by size only, so that the output never depends on write sizes

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._pending is not None and self._buffer:
                self._submit(self._pending, last=False)
                self._pending = None
            last = self._pending if self._pending is not None else bytes(self._buffer)
            self._submit(last, last=True)
            while self._in_flight:
                self.sink.write(self._in_flight.popleft().result())
            self.sink.write(struct.pack("<LL", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF))
        finally:
            if self._own_pool and self._pool is not None:
                self._pool.shutdown(wait=True)

    def __enter__(self) -> "ParallelGzipWriter":
        return self

    def __exit__(self, kind: Optional[type], value: Optional[BaseException], traceback: object) -> None:
        if kind is None:
            self.close()
        elif self._own_pool and self._pool is not None:
            for future in self._in_flight:
                future.cancel()
            self._pool.shutdown(wait=True)
