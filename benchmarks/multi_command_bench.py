#!/usr/bin/env python3
"""Many images from one module, cold: pyko (one go build per platform for all main packages)
beside ko v0.19.1 (one go build per package and platform). Prints figures; asserts nothing.

  python3 benchmarks/multi_command_bench.py [--runs N] [--platforms linux/amd64,linux/arm64]

The module is golang.org/x/tools v0.46.0 from the Go module proxy (its 12 commands below), copied
out of the module cache; its dependencies are downloaded once before timing (GOMODCACHE stays
warm), and every timed run starts with an empty GOCACHE and an empty pyko cache. Both tools
write an OCI layout on the same base (pyko's, published to a registry on loopback so that ko can
pull it) with SBOMs on; runs alternate between the tools. Also printed: the same compiles with
bare `go build`, separately (2 at a time, as ko runs them on 2 cores) and grouped.
"""
import argparse
import concurrent.futures as cf
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from ko_compare import find_ko, timed  # noqa: E402
from registry_fixtures import start_registry  # noqa: E402

MODULE = "golang.org/x/tools@v0.46.0"
COMMANDS = ["bundle", "callgraph", "deadcode", "digraph", "eg", "fiximports", "godex", "goimports", "gomvpkg",
            "gonew", "gotype", "stringer"]


def module_source(work: str, env: dict) -> str:
    subprocess.run(["go", "mod", "download", MODULE], env=env, check=True, capture_output=True)
    cache = subprocess.run(["go", "env", "GOMODCACHE"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip()
    src = os.path.join(work, "tools")
    shutil.copytree(os.path.join(cache, *MODULE.split("/")), src)
    for root, dirs, files in os.walk(src):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
    subprocess.run(["go", "mod", "download"], cwd=src, env=env, check=True, capture_output=True)
    return src


def go_builds(src, env, platforms, grouped):
    """The compiles alone: one `go build` per package and platform, 2 at a time, or one per platform."""
    def one(platform, packages):
        arch = platform.split("/")[1]
        out = os.path.join(env["GOCACHE"] + "-out", arch) + os.sep
        subprocess.run(["go", "build", "-trimpath", "-o", out, *packages], cwd=src, check=True,
                       env=dict(env, CGO_ENABLED="0", GOOS="linux", GOARCH=arch), capture_output=True)

    jobs = [(p, [f"./cmd/{c}" for c in COMMANDS]) for p in platforms] if grouped else \
        [(p, [f"./cmd/{c}"]) for c in COMMANDS for p in platforms]
    started = time.perf_counter()
    # Grouped: one platform after the other, as pyko runs them; separate: 2 at a time, as ko does.
    with cf.ThreadPoolExecutor(1 if grouped else (os.cpu_count() or 1)) as pool:
        list(pool.map(lambda job: one(*job), jobs))
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--platforms", default="linux/amd64,linux/arm64")
    args = parser.parse_args()
    platforms = args.platforms.split(",")
    ko = find_ko()
    work = tempfile.mkdtemp(prefix="pyko-multi-")
    registry = start_registry(os.path.join(work, "registry"))
    base_env = dict(os.environ, CI="true", SOURCE_DATE_EPOCH="1700000000", GOFLAGS="-buildvcs=false")
    for name in ("PYKO_DOCKER_REPO", "KO_DOCKER_REPO", "KO_CONFIG_PATH", "PYKO_CONFIG"):
        base_env.pop(name, None)
    try:
        src = module_source(work, base_env)
        subprocess.run([sys.executable, "-m", "pyko", "base", "--repo", f"{registry.host}/static"], check=True,
                       capture_output=True, env=dict(base_env, PYKO_CACHE_DIR=os.path.join(work, "base-cache")))
        base = f"{registry.host}/static:latest"
        paths = [f"./cmd/{c}" for c in COMMANDS]
        figures = {"ko": [], "pyko": [], "go separate": [], "go grouped": []}
        for n in range(args.runs):
            def env(tool, n=n):
                return dict(base_env, GOCACHE=os.path.join(work, f"gocache-{tool}-{n}"),
                            PYKO_CACHE_DIR=os.path.join(work, f"pyko-cache-{tool}-{n}"))
            figures["ko"].append(timed([ko, "build", *paths, "--platform", ",".join(platforms), "--push=false",
                                        "--oci-layout-path", os.path.join(work, f"ko-layout-{n}")],
                                       dict(env("ko"), KO_DOCKER_REPO=f"{registry.host}/ko",
                                            KO_DEFAULTBASEIMAGE=base), cwd=src)[0])
            elapsed, _, _, err = timed([sys.executable, "-m", "pyko", "build", *paths, "--platform",
                                        ",".join(platforms), "--base", base, "--oci-layout",
                                        os.path.join(work, f"pyko-layout-{n}")], env("pyko"), cwd=src)
            figures["pyko"].append(elapsed)
            figures["go separate"].append(go_builds(src, env("separate"), platforms, grouped=False))
            figures["go grouped"].append(go_builds(src, env("grouped"), platforms, grouped=True))
        grouped_line = next((line for line in err.splitlines() if "compiled together" in line), "")
        print(f"pyko: {grouped_line.strip()}")
        ko_time = statistics.median(figures["ko"])
        print(f"\n{len(COMMANDS)} commands of {MODULE}, {', '.join(platforms)}, empty Go cache, "
              f"median of {args.runs}, {os.cpu_count()} cores")
        print(f"{'work':52} {'seconds':>8} {'/ ko':>6}")
        for label, key in (("ko v0.19.1 build (one go build per image)", "ko"),
                           ("pyko build (one go build per platform)", "pyko"),
                           ("  bare go builds, separate, 2 at a time", "go separate"),
                           ("  bare go builds, grouped, one platform at a time", "go grouped")):
            value = statistics.median(figures[key])
            print(f"{label:52} {value:8.1f} {value / ko_time:6.2f}")
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
