#!/usr/bin/env python3
"""What an unhealthy registry costs a push. Prints numbers; asserts nothing.

  python3 benchmarks/push_faults_bench.py [--runs N] [--backoff SECONDS]

Starts the real registry (Debian's docker-registry) on loopback, compiles the
C sample statically for amd64 and arm64, and pushes the two-platform image,
signed and with SBOMs, N times straight to the registry and N times through
the suite's seeded fault-injecting proxy (tests/faultproxy.py) at 5% each of
503, 429 (Retry-After: 1), reset-after-forwarding, truncated and corrupted
bodies, and again at 20% 503. Each run goes to a new repository, so every
blob is uploaded. Reports median and worst wall time, retries, and failures.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))

from faultproxy import FaultProxy  # noqa: E402
from registry_fixtures import start_registry  # noqa: E402

EACH_5 = {"503": 0.05, "429": 0.05, "reset": 0.05, "truncate": 0.05, "corrupt": 0.05}


def compile_binaries(work):
    src = os.path.join(REPO, "testdata", "hello-c", "hello.c")
    out = {}
    for platform, cc in (("linux/amd64", "cc"), ("linux/arm64", "aarch64-linux-gnu-gcc")):
        out[platform] = os.path.join(work, platform.replace("/", "-"))
        subprocess.run([cc, "-static", "-O2", "-o", out[platform], src], check=True)
    return out


def push(host, repo, binaries, key, env):
    args = [sys.executable, "-m", "pyko", "build", "--name", "app", "--repo", f"{host}/{repo}", "--sign-key", key]
    for platform, path in binaries.items():
        args += ["--binary", f"{platform}={path}"]
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    retried = sum(int(n) for n in re.findall(r"(\d+) registry request\(s\) retried in all", proc.stderr))
    return elapsed, retried, proc.returncode == 0


def series(label, runs, one):
    times, retries, failed = [], [], 0
    for n in range(runs):
        elapsed, retried, ok = one(n)
        times.append(elapsed)
        retries.append(retried)
        failed += not ok
    print(f"{label:34} median {statistics.median(times):5.2f}s  worst {max(times):5.2f}s  "
          f"retried {statistics.mean(retries):4.1f}/push  failed {failed}/{runs}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--backoff", default="0.5", help="PYKO_REGISTRY_BACKOFF (the product default is 0.5)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pyko-faults-bench-")
    registry = start_registry(os.path.join(work, "registry"))
    env = dict(os.environ, PYKO_CACHE_DIR=os.path.join(work, "cache"), DOCKER_CONFIG=work, CI="true",
               SOURCE_DATE_EPOCH="1700000000", COSIGN_PASSWORD="bench", PYKO_REGISTRY_BACKOFF=args.backoff)
    subprocess.run([sys.executable, "-m", "pyko", "generate-key-pair", "--output-key-prefix",
                    os.path.join(work, "cosign")], env=env, check=True, capture_output=True)
    key = os.path.join(work, "cosign.key")
    binaries = compile_binaries(work)
    print(f"{os.cpu_count()} cores; {args.runs} two-platform signed pushes per row; backoff {args.backoff}s")

    def through(rates, offset):
        def one(n):
            proxy = FaultProxy(registry.host, offset + n, rates)
            try:
                return push(proxy.host, f"f{offset}-{n}", binaries, key, env)
            finally:
                proxy.stop()
        return one

    try:
        series("clean (straight to the registry)", args.runs,
               lambda n: push(registry.host, f"c{n}", binaries, key, env))
        series("through the proxy, no faults", args.runs, through({}, 1000))
        series("5% each of 5 faults", args.runs, through(EACH_5, 2000))
        series("20% 503", args.runs, through({"503": 0.20}, 3000))
    finally:
        registry.stop()


if __name__ == "__main__":
    main()
