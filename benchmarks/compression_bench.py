#!/usr/bin/env python3
"""Layer compression, old and new side by side: the runtime's zlib at level 6 (pyko before this
change, and --compression-compat) against the pinned zlib-ng at each level, and gzip level 1 (what
ko's go-containerregistry writes), on real binaries. Prints throughput (one core, and pyko's block
writer on every core) and size; asserts nothing.

  python3 benchmarks/compression_bench.py [FILE ...]

Without FILEs: the `go` binary of the Go on PATH, and deflate_probe's fixed 64 MB input.
"""
import io
import os
import sys
import time
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))

from pyko.image.pgzip import Deflater, ParallelGzipWriter, compat, pinned  # noqa: E402

from deflate_probe import fixed_input  # noqa: E402


def one_stream(deflater: Deflater, data: bytes) -> tuple:
    """(seconds, bytes) of one deflate stream on one core."""
    z = deflater.module
    started = time.perf_counter()
    compressor = z.compressobj(deflater.level, z.DEFLATED, -z.MAX_WBITS, z.DEF_MEM_LEVEL, 0)
    size = len(compressor.compress(data) + compressor.flush())
    return time.perf_counter() - started, size


def blocks(deflater: Deflater, data: bytes, workers: int) -> float:
    """Seconds for pyko's block writer with `workers` threads."""
    import concurrent.futures as cf

    pool = cf.ThreadPoolExecutor(workers) if workers > 1 else None
    started = time.perf_counter()
    with ParallelGzipWriter(io.BytesIO(), deflater, workers, pool) as writer:
        for i in range(0, len(data), 1 << 16):
            writer.write(data[i:i + (1 << 16)])
    if pool is not None:
        pool.shutdown()
    return time.perf_counter() - started


def main():
    inputs = [(os.path.basename(path), open(path, "rb").read()) for path in sys.argv[1:]]
    if not inputs:
        import subprocess

        goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
        for tool in ("bin/go", "pkg/tool/linux_amd64/compile"):
            if goroot and os.path.isfile(os.path.join(goroot, tool)):
                with open(os.path.join(goroot, tool), "rb") as f:
                    inputs.append((f"Go's {tool.rsplit('/', 1)[1]} binary", f.read()))
        inputs.append(("fixed 64 MB input", fixed_input()))
    ng = pinned()
    candidates = [("zlib level 6 (old; --compression-compat)", compat()),
                  ("zlib level 1 (ko's level)", Deflater("zlib", zlib.ZLIB_RUNTIME_VERSION, 1, zlib))]
    candidates += [(f"zlib-ng level {level}" + (" (new default)" if level == ng.level else ""),
                    Deflater(ng.library, ng.version, level, ng.module)) for level in (1, 2, 3, 6)]
    cores = os.cpu_count() or 1
    print(f"{cores} cores; zlib {zlib.ZLIB_RUNTIME_VERSION}; zlib-ng {ng.version}")
    for name, data in inputs:
        print(f"\n{name}: {len(data) / 1e6:.1f} MB")
        print(f"  {'compressor':44} {'MB/s, 1 core':>12} {f'MB/s, {cores} cores':>14} {'size MB':>8} {'vs old':>7}")
        base_time = base_size = None
        for label, deflater in candidates:
            seconds, size = one_stream(deflater, data)
            parallel = blocks(deflater, data, cores)
            base_time, base_size = (base_time or seconds), (base_size or size)
            print(f"  {label:44} {len(data) / seconds / 1e6:12.1f} {len(data) / parallel / 1e6:14.1f} "
                  f"{size / 1e6:8.2f} {size / base_size - 1:+7.1%}   {base_time / seconds:4.1f}x")


if __name__ == "__main__":
    main()
