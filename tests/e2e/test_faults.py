"""An unhealthy registry, for real: the real registry behind a seeded fault-injecting
proxy (faultproxy.py) that answers 503 and 429, resets connections after the
registry acted, and truncates or corrupts bodies. Every push must complete with
the digest of a clean push, and what lands must be intact as skopeo reads it."""
import concurrent.futures as cf
import json
import os

import pytest

from faultproxy import FaultProxy
from oci_tools import need, need_root, pyko, run, unpack_and_run

pytestmark = pytest.mark.slow
EPOCH = "1700000000"
EACH_5 = {"503": 0.05, "429": 0.05, "reset": 0.05, "truncate": 0.05, "corrupt": 0.05}


@pytest.fixture(scope="module")
def signed_env(session_env, tmp_path_factory):
    keys = tmp_path_factory.mktemp("keys")
    env = dict(session_env, SOURCE_DATE_EPOCH=EPOCH, COSIGN_PASSWORD="pw")
    proc = pyko("generate-key-pair", "--output-key-prefix", str(keys / "cosign"), env=env)
    assert proc.returncode == 0, proc.stderr
    env.pop("PYKO_REGISTRY_RETRIES")  # the product's default (8), not the suite's fail-fast 2
    env["PYKO_REGISTRY_BACKOFF"] = "0.1"  # Retry-After is still honoured as sent
    return env, str(keys / "cosign.key"), str(keys / "cosign.pub")


def _push(env, repo, c_binaries, key):
    return pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}",
                "--binary", f"linux/arm64={c_binaries['linux/arm64']}", "--name", "app",
                "--repo", repo, "--sign-key", key, env=env)


def _digest(proc):
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1].split("@", 1)[1]


def _one_push_through(registry, c_binaries, env, key, pub, rates, seed, clean, tmp_path) -> FaultProxy:
    proxy = FaultProxy(registry.host, seed, rates)
    try:
        proc = _push(env, f"{proxy.host}/run{seed}", c_binaries, key)
        assert _digest(proc) == clean, f"seed {seed}: {proc.stderr}"
        # The summary counts every retry of the run (base, image, SBOMs, signatures, attestations).
        retried = proc.stderr.count("pyko: retrying ")
        in_all = f"{retried} registry request(s) retried in all" if retried else "retried in all"
        assert (in_all in proc.stderr) == bool(retried), f"seed {seed}: {proc.stderr}"
        # Read back through the same proxy: the signature and its blobs (GETs with bodies).
        verified = pyko("verify", "--key", pub, f"{proxy.host}/run{seed}/app:latest", env=env)
        assert verified.returncode == 0, f"seed {seed}: {verified.stderr}"
    finally:
        proxy.stop()
    # What landed is intact, as a tool pyko did not write reads it from the registry itself.
    run(["skopeo", "copy", "--all", "--src-tls-verify=false",
         f"docker://{registry.host}/run{seed}/app:latest", f"oci:{tmp_path}/copy{seed}:app"])
    return proxy


def _pushes_through(registry, c_binaries, signed_env, rates, seeds, tmp_path):
    """A clean push, then one push per seed through its own proxy, four at a time (they mostly wait)."""
    env, key, pub = signed_env
    clean = _digest(_push(env, f"{registry.host}/clean", c_binaries, key))
    with cf.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(_one_push_through, registry, c_binaries, env, key, pub, rates, seed, clean, tmp_path)
                   for seed in seeds]
        proxies = [future.result() for future in futures]
    return clean, proxies


def test_twenty_pushes_through_five_percent_of_each_fault(registry, c_binaries, signed_env, tmp_path):
    need("skopeo", "umoci")
    need_root()
    clean, proxies = _pushes_through(registry, c_binaries, signed_env, EACH_5, range(1, 21), tmp_path)
    injected = {fault: sum(p.injected[fault] for p in proxies) for fault in EACH_5}
    assert all(count > 0 for count in injected.values()), injected  # every kind of fault really happened
    first = f"oci:{tmp_path}/copy1:app"
    with open(f"{tmp_path}/copy1/index.json") as f:
        assert json.load(f)["manifests"][0]["digest"] == clean
    for arch in ("amd64", "arm64"):
        assert "Hello from C! uid=65532" in unpack_and_run(first, arch, str(tmp_path / f"run-{arch}"))


def test_pushes_through_twenty_percent_503(registry, c_binaries, signed_env, tmp_path):
    need("skopeo")
    _, proxies = _pushes_through(registry, c_binaries, signed_env, {"503": 0.20}, range(101, 106), tmp_path)
    assert sum(p.injected["503"] for p in proxies) > 10


def test_base_pulled_through_faults_with_every_digest_verified(registry, published_base, hello_src, signed_env,
                                                              tmp_path):
    env, _, _ = signed_env
    proxy = FaultProxy(registry.host, 7, EACH_5)
    try:
        fresh = dict(env, PYKO_CACHE_DIR=str(tmp_path / "cache"))  # nothing cached: every blob comes through
        layout = str(tmp_path / "layout")
        proc = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--base",
                    f"{proxy.host}/static:latest", "--oci-layout", layout, env=fresh)
        assert proc.returncode == 0, proc.stderr
    finally:
        proxy.stop()
    assert proxy.injected["truncate"] + proxy.injected["corrupt"] + proxy.injected["reset"] > 0, proxy.injected
    # The cache holds only verified blobs, and they are the registry's own.
    blobs = tmp_path / "cache" / "blobs" / "sha256"
    for path in blobs.iterdir():
        run(["sh", "-c", f'test "$(sha256sum < {path} | cut -c1-64)" = {path.name}'])
    base = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                           f"docker://{published_base['tag']}"]).stdout)
    for entry in base["manifests"]:
        if entry["platform"]["architecture"] in ("amd64", "arm64"):
            assert (blobs / entry["digest"].split(":")[1]).exists()
    assert os.path.isdir(layout)
