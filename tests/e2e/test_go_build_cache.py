"""Go's build cache through a real registry: a fresh runner (empty GOCACHE, empty pyko cache) reuses
what an earlier run saved, and gets byte-identical images; a cache that fails mid-download or is
damaged only costs time."""
import os

import pytest

from oci_tools import pyko, skopeo_raw

EPOCH = "1700000000"


def _fresh(session_env, tmp_path, name):
    """The environment of a new CI runner: no Go cache, no pyko cache."""
    return dict(session_env, GOCACHE=str(tmp_path / f"gocache-{name}"), PYKO_CACHE_DIR=str(tmp_path / f"pyko-{name}"),
                SOURCE_DATE_EPOCH=EPOCH, COSIGN_PASSWORD="")


def _lines(stderr, needle):
    return [line for line in stderr.splitlines() if needle in line]


@pytest.fixture(scope="module")
def key(session_env, tmp_path_factory):
    """The trusted pipeline's key: it signs the cache it saves, and readers verify with it."""
    prefix = str(tmp_path_factory.mktemp("cache-key") / "ci")
    made = pyko("generate-key-pair", "--output-key-prefix", prefix, env=dict(session_env, COSIGN_PASSWORD=""))
    assert made.returncode == 0, made.stderr
    return prefix


@pytest.fixture(scope="module")
def saved(registry, session_env, hello_src, tmp_path_factory, key):
    """A first CI run: cold, saving its cache to the registry, signed."""
    cache = f"{registry.host}/cache/hello"
    first = pyko(*_args(hello_src, registry, cache, key),
                 env=_fresh(session_env, tmp_path_factory.mktemp("one"), "one"))
    assert first.returncode == 0, first.stderr
    assert _lines(first.stderr, "signed the go cache"), first.stderr
    return cache, first


def _args(hello_src, registry, cache, key, *more):
    return ["build", hello_src, "--platform", "linux/arm64", "--repo", f"{registry.host}/cached",
            "--cache-from", cache, "--cache-to", cache, "--cache-key", f"{key}.pub", "--sign-key", f"{key}.key",
            "--no-attest", *more]


def test_a_fresh_runner_reuses_the_cache_saved_by_an_earlier_run(saved, registry, session_env, hello_src, tmp_path,
                                                                  key):
    cache, first = saved
    assert _lines(first.stderr, "go cache: nothing at"), first.stderr   # a missing cache: a cold build, no error
    assert _lines(first.stderr, "go cache: saved to") and "layer(s)" in first.stderr
    manifest = skopeo_raw(f"docker://{cache}:go-build-cache")
    assert manifest["artifactType"] == "application/vnd.pyko.go-build-cache.v1" and len(manifest["layers"]) == 1

    second = pyko(*_args(hello_src, registry, cache, key), env=_fresh(session_env, tmp_path, "two"))
    assert second.returncode == 0, second.stderr
    assert _lines(second.stderr, "entries from"), second.stderr
    assert _lines(second.stderr, f"verified: signed with {key}.pub"), second.stderr
    assert _lines(second.stderr, "go cache: unchanged"), second.stderr
    assert first.stdout.strip() == second.stdout.strip()   # the same image, digest for digest
    # Go compiled nothing the first run had compiled: its own cache directory stayed (nearly) empty.
    gocache = tmp_path / "gocache-two"
    assert not gocache.exists() or sum(len(f) for _, _, f in os.walk(gocache)) < 10


def test_a_registry_failing_mid_download_makes_the_build_slower_not_wrong(saved, registry, session_env, hello_src,
                                                                           tmp_path, key):
    from faultproxy import FaultProxy

    cache, first = saved
    proxy = FaultProxy(registry.host, 11, {"truncate": 0.4, "corrupt": 0.3})
    try:
        through = f"{proxy.host}/cache/hello"
        proc = pyko("build", hello_src, "--platform", "linux/arm64", "--oci-layout",
                    str(tmp_path / "layout"), "--cache-from", through, "--cache-key", f"{key}.pub",
                    env=_fresh(session_env, tmp_path, "faulty"))
    finally:
        proxy.stop()
    assert proc.returncode == 0, proc.stderr
    assert sum(proxy.injected.values()) > 0
    assert _lines(proc.stderr, "entries from") or _lines(proc.stderr, "warning: go cache from")
    assert proc.stdout.strip().rsplit("@", 1)[1] == first.stdout.strip().rsplit("@", 1)[1]
