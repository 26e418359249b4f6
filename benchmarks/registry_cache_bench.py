#!/usr/bin/env python3
"""A fresh CI runner (empty GOCACHE, empty pyko cache) rebuilding an app for all 8 platforms with
Go's build cache read from the registry (--cache-from, verified with the pipeline's key), beside ko
v0.19.1 cold on the same inputs.
Prints figures; asserts nothing.

  python3 benchmarks/registry_cache_bench.py [--runs N]

The app is testdata/hello-go (copied outside git), both tools push to a real registry on loopback,
on pyko's base published there. First a pyko run fills the cache (--cache-to, timed as "first
run"); then each timed pyko run starts from empty caches as a new runner would: unchanged source,
and after a one-line change to main.go. ko runs cold each time (it has no shared cache).
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))

from ko_compare import Bench, find_ko, timed  # noqa: E402
from registry_fixtures import start_registry  # noqa: E402


def pyko_runner(bench: Bench, tag: str, cache: str, key: str):
    """One fresh runner: its own empty GOCACHE and pyko cache; the cache is read only once its
    signature verifies with the pipeline's key, and saved signed (as docs/ci.md recommends)."""
    env = dict(bench.env("pyko", f"-{tag}"), COSIGN_PASSWORD="")
    args = [sys.executable, "-m", "pyko", "build", ".", "--platform", "all", "--base", bench.base,
            "--repo", f"{bench.registry.host}/pyko-{tag}", "--bare", "--cache-from", cache, "--cache-to", cache,
            "--cache-key", f"{key}.pub", "--sign-key", f"{key}.key", "--no-attest"]
    return timed(args, env, cwd=bench.src)


def make_key(work: str) -> str:
    import subprocess

    prefix = os.path.join(work, "ci")
    subprocess.run([sys.executable, "-m", "pyko", "generate-key-pair", "--output-key-prefix", prefix],
                   env=dict(os.environ, COSIGN_PASSWORD=""), check=True, capture_output=True)
    return prefix


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pyko-cache-bench-")
    registry = start_registry(os.path.join(work, "registry"))
    try:
        bench = Bench(work, find_ko(), registry)
        bench.base = bench.publish_base()
        cache = f"{registry.host}/gocache/hello"
        key = make_key(work)
        first, _, _, err = pyko_runner(bench, "first", cache, key)
        print("first run: " + " | ".join(line.strip() for line in err.splitlines() if "go cache" in line))
        ko_cold, unchanged, changed = [], [], []
        main_go = os.path.join(bench.src, "main.go")
        with open(main_go) as f:
            source = f.read()
        for n in range(args.runs):
            ko_cold.append(bench.ko_build(cold_tag=f"-cold{n}", repo=f"ko-cold{n}")[0])
            elapsed, _, _, err = pyko_runner(bench, f"unchanged{n}", cache, key)
            unchanged.append(elapsed)
            print(f"fresh runner {n}: " + " | ".join(line.strip() for line in err.splitlines() if "go cache" in line))
            with open(main_go, "w") as f:
                f.write(source.replace("func main() {", f"func main() {{\n\t_ = \"one-line change {n}\"", 1))
            try:
                changed.append(pyko_runner(bench, f"changed{n}", cache, key)[0])
            finally:
                with open(main_go, "w") as f:
                    f.write(source)
        ko = statistics.median(ko_cold)
        print(f"\nhello-go, 8 platforms, build + push, {os.cpu_count()} cores, median of {args.runs}")
        print(f"{'work':62} {'seconds':>8} {'/ ko cold':>10}")
        rows = (("ko v0.19.1, cold (empty Go cache)", ko),
                ("pyko, first run: cold, fills the registry cache", first),
                ("pyko, fresh runner, registry cache warm, unchanged source", statistics.median(unchanged)),
                ("pyko, fresh runner, registry cache warm, one-line change", statistics.median(changed)))
        for label, value in rows:
            print(f"{label:62} {value:8.1f} {value / ko:10.2f}")
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
