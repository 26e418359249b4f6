"""Per-runner builds merged into one index by `pyko index create`, against real registries:
the merged index is byte-identical to one multi-platform build, runs on both platforms,
keeps its SBOMs and signatures resolvable, and crosses registries by streaming."""
import json

import pytest

from oci_tools import assert_clean_error, need, need_root, pyko, run, skopeo_raw, unpack_and_run
from registry_fixtures import start_registry

EPOCH = "1700000000"


def _runner(env, src, platform, repo, tmp_path, n, *extra):
    """One CI runner: its own pyko and Go caches, one platform, pushed by digest."""
    env = dict(env, SOURCE_DATE_EPOCH=EPOCH, PYKO_CACHE_DIR=str(tmp_path / f"cache{n}"),
               GOCACHE=str(tmp_path / f"go{n}"))
    proc = pyko("build", src, "--platform", platform, "--repo", repo, "--push-by-digest", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def runners(registry, hello_src, session_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runners")
    repo = f"{registry.host}/fan"
    return [_runner(session_env, hello_src, p, repo, tmp, n) for n, p in enumerate(["linux/amd64", "linux/arm64"])]


def test_merged_index_equals_one_build_and_runs_on_both(registry, runners, hello_src, session_env, tmp_path):
    need("skopeo", "umoci")
    env = dict(session_env, SOURCE_DATE_EPOCH=EPOCH)
    tags = run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry.host}/fan/hello-go"]).stdout
    assert '"latest"' not in tags  # the runners moved no tag
    proc = pyko("index", "create", f"{registry.host}/fan/hello-go:v1", *reversed(runners), env=env)
    assert proc.returncode == 0, proc.stderr
    merged = proc.stdout.strip()
    assert merged.startswith(f"{registry.host}/fan/hello-go:v1@sha256:")
    assert "mounted 0" in proc.stderr and "uploaded 0 blob(s)" in proc.stderr  # same repository: nothing moves
    single = pyko("build", hello_src, "--platform", "linux/arm64,linux/amd64", "--repo", f"{registry.host}/one",
                  "-q", env=dict(env, PYKO_CACHE_DIR=str(tmp_path / "single")))
    assert single.returncode == 0, single.stderr
    assert merged.split("@")[1] == single.stdout.strip().split("@")[1]
    index = skopeo_raw(f"docker://{registry.host}/fan/hello-go:v1")
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"]
    need_root()
    layout = tmp_path / "copy"
    run(["skopeo", "copy", "--all", "--src-tls-verify=false", f"docker://{registry.host}/fan/hello-go:v1",
         f"oci:{layout}:app"])
    assert "(linux/amd64)" in unpack_and_run(f"oci:{layout}:app", "amd64", str(tmp_path / "a"))
    assert "(linux/arm64)" in unpack_and_run(f"oci:{layout}:app", "arm64", str(tmp_path / "b"))


def test_into_another_repository_mounts_and_carries_attachments(registry, runners, session_env, tmp_path):
    need("skopeo")
    env = dict(session_env, COSIGN_PASSWORD="pw")
    assert pyko("generate-key-pair", "--output-key-prefix", str(tmp_path / "k"), env=env).returncode == 0
    proc = pyko("index", "create", f"{registry.host}/merged/app:latest", *runners, "--sign-key",
                str(tmp_path / "k.key"), "--recursive", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "uploaded 0 blob(s)" in proc.stderr and "mounted 0;" not in proc.stderr
    merged = proc.stdout.strip()
    for entry in skopeo_raw(f"docker://{merged}")["manifests"]:  # each runner's SBOM came along
        tag = entry["digest"].replace(":", "-") + ".sbom"
        sbom = skopeo_raw(f"docker://{registry.host}/merged/app:{tag}")
        assert sbom["layers"][0]["mediaType"] == "text/spdx+json"
    verified = pyko("verify", "--key", str(tmp_path / "k.pub"), merged, env=env)
    assert verified.returncode == 0, verified.stderr


def test_duplicates_prefer_and_append(registry, runners, hello_src, session_env, tmp_path):
    other_amd64 = _runner(dict(session_env, GOFLAGS="-buildvcs=false -ldflags=-s"), hello_src, "linux/amd64",
                          f"{registry.host}/fan", tmp_path, 9)
    assert other_amd64 != runners[0]
    target = f"{registry.host}/dup/app:latest"
    clash = pyko("index", "create", target, runners[0], other_amd64, env=session_env)
    assert_clean_error(clash, "linux/amd64 is offered by both", "--prefer")
    chosen = pyko("index", "create", target, runners[0], other_amd64, "--prefer", other_amd64, env=session_env)
    assert chosen.returncode == 0, chosen.stderr
    entries = skopeo_raw(f"docker://{target}")["manifests"]
    assert len(entries) == 1
    assert entries[0]["digest"] == skopeo_raw(f"docker://{other_amd64}")["manifests"][0]["digest"]
    appended = pyko("index", "create", target, runners[1], "--append", env=session_env)
    assert appended.returncode == 0, appended.stderr
    assert [m["platform"]["architecture"] for m in skopeo_raw(f"docker://{target}")["manifests"]] == \
        ["amd64", "arm64"]


def test_across_registries_blobs_are_streamed(registry, runners, session_env, tmp_path):
    need("skopeo")
    other = start_registry(str(tmp_path / "other"))
    try:
        proc = pyko("index", "create", f"{other.host}/copied/app:v1", *runners, env=session_env)
        assert proc.returncode == 0, proc.stderr
        assert "mounted 0;" in proc.stderr and "uploaded 0 blob(s)" not in proc.stderr
        # skopeo checks every digest on the way out of the second registry.
        run(["skopeo", "copy", "--all", "--src-tls-verify=false", f"docker://{other.host}/copied/app:v1",
             f"oci:{tmp_path}/out:app"])
        index = json.loads((tmp_path / "out" / "index.json").read_text())
        assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "app"
    finally:
        other.stop()
