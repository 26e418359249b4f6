#!/usr/bin/env python3
"""Figures for pyko's core path. Prints numbers; asserts nothing.

  python3 benchmarks/build_bench.py            # warm Go cache, all 8 platforms
  python3 benchmarks/build_bench.py --cold     # also a build from an empty Go cache (slow)
  python3 benchmarks/build_bench.py --registry # also push to a docker-registry on loopback

Measures: wall time of `pyko build --platform all` into an OCI layout (warm
cache, best of N), peak RSS of the pyko process, layer writing throughput
(tar+gzip+hash of a 32 MiB file), and the built-in base's cold/warm build time.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from pyko.image.layer import file_entry, write_layer  # noqa: E402
from pyko.image.static_base import static_base  # noqa: E402


def timed_build(src, env, layout):
    shutil.rmtree(layout, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pyko", "build", src, "--platform", "all",
                           "--oci-layout", layout, "-q"], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", action="store_true", help="also build once from an empty Go cache")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--registry", action="store_true",
                        help="also time pushes to a docker-registry started on 127.0.0.1")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pyko-bench-")
    src = os.path.join(work, "hello-go")
    shutil.copytree(os.path.join(REPO, "testdata", "hello-go"), src)
    env = dict(os.environ, CI="true", PYKO_CACHE_DIR=os.path.join(work, "cache"))
    layout = os.path.join(work, "layout")

    timed_build(src, env, layout)  # warm the Go cache
    times = [timed_build(src, env, layout)[0] for _ in range(args.runs)]
    print(f"build 8 platforms, warm Go cache: best {min(times):.2f}s, median {sorted(times)[len(times)//2]:.2f}s "
          f"over {args.runs} runs")
    # Peak RSS of any child so far: the largest is either pyko or a `go build`.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of a child process (pyko or go): {peak:.0f} MiB")

    if args.cold:
        cold_env = dict(env, GOCACHE=os.path.join(work, "gocache"))
        elapsed, _, _ = timed_build(src, cold_env, layout)
        print(f"build 8 platforms, empty Go cache: {elapsed:.1f}s")

    if args.registry:
        push_figures(src, env, work)

    blob = os.path.join(work, "blob")
    with open(blob, "wb") as f:
        f.write(os.urandom(16 << 20) + bytes(16 << 20))  # half incompressible, half zeros
    started = time.perf_counter()
    write_layer([file_entry("/ko-app/x", source=blob, mode=0o755)], os.path.join(work, "layers"))
    elapsed = time.perf_counter() - started
    print(f"layer write (tar+gzip+2 hashes) of 32 MiB: {elapsed:.2f}s = {32 / elapsed:.0f} MiB/s")

    base_cache = os.path.join(work, "base")
    started = time.perf_counter()
    static_base(base_cache)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    static_base(base_cache)
    warm = time.perf_counter() - started
    print(f"built-in base (8 platforms): cold {cold * 1000:.0f} ms, cached {warm * 1000:.1f} ms")
    shutil.rmtree(work, ignore_errors=True)


def push_figures(src, env, work):
    """First push of all 8 platforms (on a registry-hosted base, so its layer is
    mounted), then an unchanged re-push, which must upload nothing."""
    sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))
    from registry_fixtures import start_registry

    reg = start_registry(os.path.join(work, "registry"))
    try:
        run = lambda *a: subprocess.run([sys.executable, "-m", "pyko", *a], env=env,  # noqa: E731
                                        capture_output=True, text=True, check=True)
        run("base", "--repo", f"{reg.host}/static", "-q")
        for label in ("first push", "unchanged re-push"):
            started = time.perf_counter()
            proc = run("build", src, "--platform", "all", "--base", f"{reg.host}/static:latest",
                       "--repo", f"{reg.host}/bench")
            elapsed = time.perf_counter() - started
            summary = next(line for line in proc.stderr.splitlines() if "pushed" in line)
            print(f"{label} (build + push, 8 platforms): {elapsed:.2f}s; {summary.split('(', 1)[1].rstrip(')')}")
    finally:
        reg.stop()


if __name__ == "__main__":
    main()
