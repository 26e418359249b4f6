"""gzip on every core, byte-identical whatever the number of cores.

The stream is cut into fixed-size blocks (BLOCK bytes of input). Each block is
deflated on its own, primed with the last 32 KiB of the block before it (so
compression hardly suffers), and ended with a sync flush; the last block ends
the stream. The deflate outputs, in order, form one valid deflate stream: the
output depends only on the input, the level and BLOCK, never on how many
threads ran or in which order they finished (zlib releases the GIL, so threads
really run in parallel). A stream of one block is exactly what
gzip.GzipFile(mtime=0, filename="") writes.

Memory stays bounded: at most 2 x workers blocks are in flight.
"""
from __future__ import annotations

import collections
import concurrent.futures as cf
import os
import struct
import zlib
from typing import BinaryIO, Deque, Optional

BLOCK = 1 << 20          # part of the layer recipe: changing it changes digests
WINDOW = 32 << 10        # deflate's window: the dictionary each block is primed with


def _deflate(block: bytes, dictionary: Optional[bytes], level: int, last: bool) -> bytes:
    # The same parameters as gzip.GzipFile, so a one-block stream matches it exactly.
    args = (level, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
    compressor = zlib.compressobj(*args, zdict=dictionary) if dictionary else zlib.compressobj(*args)
    return compressor.compress(block) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _header(level: int) -> bytes:
    xfl = 2 if level == 9 else 4 if level == 1 else 0
    return b"\x1f\x8b\x08\x00" + struct.pack("<L", 0) + bytes([xfl, 255])  # no name, mtime 0, OS unknown


class ParallelGzipWriter:
    """A write-only binary stream: gzip of what is written goes to `sink` on close()."""

    def __init__(self, sink: BinaryIO, level: int = 6, workers: int = 0, pool: Optional[cf.Executor] = None):
        self.sink, self.level = sink, level
        self.workers = workers or os.cpu_count() or 1
        self._own_pool = pool is None and self.workers > 1
        self._pool = pool if pool is not None else (cf.ThreadPoolExecutor(self.workers) if self._own_pool else None)
        self._buffer = bytearray()
        self._pending: Optional[bytes] = None      # a full block, sent once we know it is not the last
        self._previous_tail: Optional[bytes] = None
        self._in_flight: Deque = collections.deque()
        self._crc = 0
        self._size = 0
        self._closed = False
        sink.write(_header(level))

    def write(self, data) -> int:
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
            self.sink.write(_deflate(block, dictionary, self.level, last))
            return
        self._in_flight.append(self._pool.submit(_deflate, block, dictionary, self.level, last))
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
            if self._own_pool:
                self._pool.shutdown(wait=True)

    def __enter__(self) -> "ParallelGzipWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        elif self._own_pool:
            for future in self._in_flight:
                future.cancel()
            self._pool.shutdown(wait=True)
