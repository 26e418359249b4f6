#!/usr/bin/env python3
"""pyko and ko side by side, on this machine. Prints figures; asserts nothing.

  python3 benchmarks/ko_compare.py [--runs N] [--cold-runs N] [--skip-big]

Needs ko v0.19.1: `ko` on PATH, or it builds one into .ci/bench-bin (go install, optimised)
(found on PATH or in .ci/bin). Both tools build the same held-out Go module
(testdata/hello-go, copied outside git) for all 8 platforms on the same base
(pyko's built-in base, published once by `pyko base` to a real registry on
loopback), both push to that registry with SBOMs on (each tool's default), and
runs alternate between the tools. Measured:

- cold: empty Go cache (and empty pyko cache), build + push of 8 platforms;
- the floor: the same 8 `go build` commands alone, cold, for comparison;
- no-op rebuild: nothing changed, build + push;
- one-line change: main.go edited, build + push (bytes uploaded);
- big binaries (pyko only): a 160 MB and a 500 MB static binary into an OCI
  layout: time, peak RSS, MB/s; and the layer writer with 1 and 2 gzip
  workers against single-stream gzip.GzipFile (byte-identical check).
"""
import argparse
import gzip
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))

from registry_fixtures import start_registry  # noqa: E402

PLATFORMS = ["386", "amd64", "arm64", "arm/v6", "arm/v7", "ppc64le", "riscv64", "s390x"]


BENCH_KO = os.path.join(REPO, ".ci", "bench-bin", "ko")


def find_ko():
    """ko v0.19.1 as its docs install it (go install, optimised): `ko` on PATH, else one built here
    once. Not .ci/bin/ko: install-deps builds that one without optimisation, for the tests only,
    and timing it would flatter pyko."""
    for candidate in (shutil.which("ko"), BENCH_KO):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    print("building ko v0.19.1 for the benchmark (go install, optimised) ...", file=sys.stderr)
    subprocess.run(["go", "install", "github.com/google/ko@v0.19.1"], check=True,
                   env=dict(os.environ, GOBIN=os.path.dirname(BENCH_KO), GOFLAGS=""))
    return BENCH_KO


def timed(args, env, cwd=None):
    """(seconds, CPU seconds of the children, peak RSS MiB, stderr)."""
    before = os.times()
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak[0] = max(peak[0], int(line.split()[1]) // 1024)
            except OSError:
                pass
            done.wait(0.005)
    threading.Thread(target=sample, daemon=True).start()
    _, err = proc.communicate()
    done.set()
    elapsed = time.perf_counter() - started
    after = os.times()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{err}")
    return elapsed, (after.children_user - before.children_user) + (after.children_system - before.children_system), \
        peak[0], err


class Bench:
    def __init__(self, work, ko, registry):
        self.work, self.ko, self.registry = work, ko, registry
        self.src = os.path.join(work, "src", "hello-go")
        shutil.copytree(os.path.join(REPO, "testdata", "hello-go"), self.src)
        self.base_env = dict(os.environ, CI="true", SOURCE_DATE_EPOCH="1700000000", GOFLAGS="-buildvcs=false")
        self.base_env.pop("PYKO_DOCKER_REPO", None)
        self.base_env.pop("KO_DOCKER_REPO", None)

    def env(self, tool, cold_tag=""):
        env = dict(self.base_env, GOCACHE=os.path.join(self.work, f"gocache-{tool}{cold_tag}"),
                   PYKO_CACHE_DIR=os.path.join(self.work, f"pyko-cache{cold_tag}"))
        return env

    def publish_base(self):
        env = dict(self.base_env, PYKO_CACHE_DIR=os.path.join(self.work, "base-cache"))
        subprocess.run([sys.executable, "-m", "pyko", "base", "--repo", f"{self.registry.host}/static"], env=env,
                       check=True, capture_output=True)
        return f"{self.registry.host}/static:latest"

    def pyko(self, cold_tag="", repo="pyko"):
        env = self.env("pyko", cold_tag)
        args = [sys.executable, "-m", "pyko", "build", ".", "--platform", "all", "--base", self.base,
                "--repo", f"{self.registry.host}/{repo}", "--bare"]
        return timed(args, env, cwd=self.src)

    def ko_build(self, cold_tag="", repo="ko"):
        env = dict(self.env("ko", cold_tag), KO_DOCKER_REPO=f"{self.registry.host}/{repo}",
                   KO_DEFAULTBASEIMAGE=self.base)
        return timed([self.ko, "build", "--bare", "--platform=all", "."], env, cwd=self.src)

    def go_floor(self, cold_tag):
        """The 8 `go build` commands alone, run as many at a time as pyko runs them (one per core)."""
        import concurrent.futures as cf

        env = self.env("floor", cold_tag)

        def one(platform):
            arch, _, variant = platform.partition("/")
            goenv = dict(env, CGO_ENABLED="0", GOOS="linux", GOARCH=arch)
            if variant:
                goenv["GOARM"] = variant[1:]
            subprocess.run(["go", "build", "-trimpath", "-o", os.path.join(self.work, "floor", platform, "app"), "."],
                           env=goenv, cwd=self.src, check=True)

        started = time.perf_counter()
        with cf.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(one, PLATFORMS))
        return time.perf_counter() - started


def uploaded(stderr):
    match = re.search(r"uploaded (\d+) blob\(s\), ([0-9.]+ \w+)", stderr)
    return f"{match.group(1)} blobs, {match.group(2)}" if match else "?"


def compare(bench, runs, cold_runs):
    rows = []
    if cold_runs:
        # Cold builds vary by +-10% from run to run here: alternate the three, report medians.
        kos, pykos, floors = [], [], []
        for n in range(cold_runs):
            kos.append(bench.ko_build(cold_tag=f"-cold{n}", repo=f"ko-cold{n}")[0])
            pykos.append(bench.pyko(cold_tag=f"-cold{n}", repo=f"pyko-cold{n}")[0])
            floors.append(bench.go_floor(f"-cold{n}"))
        k, p, floor = statistics.median(kos), statistics.median(pykos), statistics.median(floors)
        rows.append((f"cold: 8 platforms, empty Go cache, build + push (median of {cold_runs})", p, k))
        rows.append((f"  the floor: the 8 `go build`s alone, cold, 1 per core (pyko/floor {p / floor:.2f})",
                     floor, None))
    else:
        bench.ko_build(), bench.pyko()  # warm both
    ko_times, ko_cpu, pyko_times, pyko_cpu, last = [], [], [], [], ""
    for _ in range(runs):
        t, c, _, _ = bench.ko_build()
        ko_times.append(t)
        ko_cpu.append(c)
        t, c, _, last = bench.pyko()
        pyko_times.append(t)
        pyko_cpu.append(c)
    label = (f"no-op rebuild + push (median of {runs}; CPU {statistics.median(pyko_cpu):.1f}s vs "
             f"{statistics.median(ko_cpu):.1f}s)")
    rows.append((label, statistics.median(pyko_times), statistics.median(ko_times)))
    print(f"pyko no-op push: {last.strip().splitlines()[-1][:160]}")
    main = os.path.join(bench.src, "main.go")
    with open(main) as f:
        source = f.read()
    with open(main, "w") as f:
        f.write(source.replace("func main() {", "func main() {\n\t_ = \"one-line change\"", 1))
    try:
        k, _, _, _ = bench.ko_build()
        p, _, _, err = bench.pyko()
        rows.append((f"one-line change, build + push (pyko: {uploaded(err)})", p, k))
    finally:
        with open(main, "w") as f:
            f.write(source)
    print(f"\n{'work':70} {'pyko':>8} {'ko':>8} {'pyko/ko':>8}")
    for label, p, k in rows:
        ratio = f"{p / k:8.2f}" if k else f"{'':8}"
        print(f"{label:70} {p:7.2f}s " + (f"{k:7.2f}s" if k else f"{'':8}") + ratio)


def big_binaries(bench, c_binary):
    print(f"\n{'big static binary (pyko only)':50} {'time':>8} {'peak RSS':>9} {'MB/s':>7}")
    with open(c_binary, "rb") as f:
        static = f.read()
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(goroot, "bin", "go"), "rb") as f:
        filler = f.read()  # a real (15 MB) Go binary, so it compresses like one
    for size_mb in (160, 500):
        path = os.path.join(bench.work, f"big-{size_mb}")
        with open(path, "wb") as out:
            out.write(static)
            left = size_mb * 1000 * 1000 - len(static)
            while left > 0:
                out.write(filler[:left])
                left -= len(filler)
        env = dict(bench.base_env, PYKO_CACHE_DIR=os.path.join(bench.work, f"big-cache-{size_mb}"))
        layout = os.path.join(bench.work, f"big-layout-{size_mb}")
        build = [sys.executable, "-m", "pyko", "build", "--binary", f"linux/amd64={path}", "--name", "big"]
        elapsed, _, peak, _ = timed(build + ["--oci-layout", layout], env)
        print(f"{f'{size_mb} MB, built (cold cache)':50} {elapsed:7.2f}s {peak:7d}MiB {size_mb / elapsed:7.1f}")
        # The same binary pushed: the layer comes from the cache, then it is streamed to the registry.
        elapsed, _, peak, _ = timed(build + ["--repo", f"{bench.registry.host}/big{size_mb}", "--sbom=none"], env)
        print(f"{f'{size_mb} MB, pushed (layer cached)':50} {elapsed:7.2f}s {peak:7d}MiB {size_mb / elapsed:7.1f}")
        shutil.rmtree(os.path.join(bench.work, f"big-cache-{size_mb}"))
        elapsed, _, peak, _ = timed(build + ["--repo", f"{bench.registry.host}/big{size_mb}b", "--sbom=none"], env)
        print(f"{f'{size_mb} MB, built and pushed (cold cache)':50} {elapsed:7.2f}s {peak:7d}MiB "
              f"{size_mb / elapsed:7.1f}")
        os.unlink(path)
    gzip_workers(filler, 160)


def gzip_workers(filler, size_mb):
    from pyko.image.pgzip import ParallelGzipWriter, pinned

    data = (filler * (size_mb * 1000 * 1000 // len(filler) + 1))[:size_mb * 1000 * 1000]
    print(f"\n{size_mb} MB through the compressor alone (in-process):")
    outputs = {}
    started = time.perf_counter()
    with gzip.GzipFile(filename="", mode="wb", fileobj=io.BytesIO(), mtime=0, compresslevel=6) as g:
        g.write(data)
    single = time.perf_counter() - started
    print(f"  gzip.GzipFile (one stream, one core)  {single:6.2f}s")
    for workers in (1, 2):
        out = io.BytesIO()
        started = time.perf_counter()
        with ParallelGzipWriter(out, pinned(), workers) as writer:
            for i in range(0, len(data), 1 << 16):
                writer.write(data[i:i + (1 << 16)])
        elapsed = time.perf_counter() - started
        outputs[workers] = out.getvalue()
        print(f"  pyko pgzip, {workers} worker(s)              {elapsed:6.2f}s  ({elapsed / single:.2f} x GzipFile)")
    print(f"  byte-identical with 1 and 2 workers: {outputs[1] == outputs[2]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=2, help="0 skips the cold builds")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    ko = find_ko()
    work = tempfile.mkdtemp(prefix="pyko-vs-ko-")
    registry = start_registry(os.path.join(work, "registry"))
    try:
        bench = Bench(work, ko, registry)
        bench.base = bench.publish_base()
        version = subprocess.run([ko, "version"], capture_output=True, text=True).stdout.strip()
        print(f"{os.cpu_count()} cores; ko {version}; base {bench.base}; SBOMs on for both")
        compare(bench, args.runs, args.cold_runs)
        if not args.skip_big:
            c_binary = os.path.join(work, "hello-c")
            hello_c = os.path.join(REPO, "testdata", "hello-c", "hello.c")
            subprocess.run(["cc", "-static", "-O2", "-o", c_binary, hello_c], check=True)
            big_binaries(bench, c_binary)
        print(f"\npyko --version: {timed([sys.executable, '-m', 'pyko', '--version'], os.environ)[0] * 1000:.0f} ms")
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
