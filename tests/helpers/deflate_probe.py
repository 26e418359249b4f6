"""A fixed 64 MB input and the SHA-256 of what pyko's layer compression makes of it (test helper).

Run as a script under any Python that can import pyko.image.pgzip and zlib_ng (also Debian's arm64
Python under qemu-aarch64, with only the standard library and the zlib-ng wheel): prints one line
per worker count, `WORKERS SHA256 SIZE`. The input mixes what layers hold: text-like data with
repeats at every distance (matches the match finder must choose between), incompressible bytes,
and long runs, generated from a seed, so it is the same everywhere.
"""
from __future__ import annotations

import hashlib
import io
import random
import sys

SIZE = 64 << 20
#: What the pinned zlib-ng makes of fixed_input(): recorded once, checked natively (unit tier) and on
#: aarch64 under qemu (e2e). A change means every layer digest pyko makes has changed: say so in the
#: changelog (docs/reproducibility.md).
RECORDED = "ac99c92bed8b6163b4fd3f896c41a9d1b81cd32a58e7a5fb2a3861d0cf3e3687"


def fixed_input(size: int = SIZE) -> bytes:
    rng = random.Random(20261204)
    words = [bytes(rng.randrange(97, 123) for _ in range(rng.randrange(2, 10))) for _ in range(4096)]
    text = b" ".join(rng.choice(words) for _ in range(200_000))          # about 1.2 MB of "text"
    noise = rng.randbytes(1 << 20)
    out = bytearray()
    n = 0
    while len(out) < size:
        start = (n * 7919) % (len(text) - 300_000)
        out += text[start:start + 300_000]                                 # repeats near and far
        out += noise[(n * 104729) % (1 << 19):][:65_536]                   # incompressible
        out += bytes([n % 251]) * (n % 5000)                               # runs
        n += 1
    return bytes(out[:size])


def compressed_sha256(data: bytes, workers: int) -> tuple:
    import concurrent.futures as cf

    from pyko.image.pgzip import ParallelGzipWriter, pinned

    out = io.BytesIO()
    pool = cf.ThreadPoolExecutor(workers) if workers > 1 else None
    try:
        with ParallelGzipWriter(out, pinned(), workers, pool) as writer:
            for i in range(0, len(data), 1 << 16):
                writer.write(data[i:i + (1 << 16)])
    finally:
        if pool is not None:
            pool.shutdown()
    return hashlib.sha256(out.getvalue()).hexdigest(), len(out.getvalue())


if __name__ == "__main__":
    data = fixed_input()
    for count in [int(arg) for arg in sys.argv[1:]] or [1]:
        digest, size = compressed_sha256(data, count)
        print(count, digest, size)
