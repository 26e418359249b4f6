"""End to end: the README's main job, checked by real tools and by running the binaries."""
import gzip
import hashlib
import json
import os
import tarfile

import pytest

from oci_tools import (
    ALL8,
    copy_platform,
    need,
    need_root,
    pyko,
    run,
    run_in_rootfs,
    runc_run,
    skopeo_config,
    skopeo_raw,
    unpack,
)

REF = "hello-go:latest"


def test_prints_digest_reference_last_and_logs_on_stderr(hello_all):
    assert hello_all["ref"].startswith("hello-go@sha256:")
    assert len(hello_all["digest"]) == len("sha256:") + 64
    assert "building hello-go linux/s390x" in hello_all["stderr"]


def test_layout_validates_and_holds_all_eight_platforms(hello_all):
    need("oci-image-tool", "skopeo")
    layout = hello_all["layout"]
    run(["oci-image-tool", "validate", "--type", "image", "--ref", f"name={REF}", layout])
    index = skopeo_raw(f"oci:{layout}:{REF}")
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    platforms = ["/".join(filter(None, (m["platform"]["os"], m["platform"]["architecture"],
                                        m["platform"].get("variant")))) for m in index["manifests"]]
    assert platforms == ALL8
    with open(os.path.join(layout, "index.json")) as f:
        entry = json.load(f)["manifests"][0]
    assert entry["digest"] == hello_all["digest"]
    assert entry["annotations"] == {"org.opencontainers.image.ref.name": REF,
                                    "io.containerd.image.name": "docker.io/library/hello-go:latest"}


@pytest.mark.parametrize("platform", ALL8)
def test_every_platform_config(hello_all, platform):
    need("skopeo")
    _, arch, *variant = platform.split("/")
    cfg = skopeo_config(f"oci:{hello_all['layout']}:{REF}", arch, variant[0] if variant else "")
    assert (cfg["os"], cfg["architecture"], cfg.get("variant", "")) == ("linux", arch, (variant or [""])[0])
    assert cfg["config"]["Cmd"] == ["/ko-app/hello-go"]
    assert "Entrypoint" not in cfg["config"]
    assert cfg["config"]["User"] == "65532"
    env = cfg["config"]["Env"]
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/ko-app" in env
    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in env
    assert "KO_DATA_PATH=/var/run/ko" in env
    assert cfg["created"] == "1970-01-01T00:00:00Z"
    assert len(cfg["rootfs"]["diff_ids"]) == len(cfg["history"]) == 3  # base, kodata, binary


@pytest.mark.parametrize("platform", ALL8)
def test_every_platform_unpacks_validates_and_runs_as_nonroot(hello_all, platform, tmp_path):
    need("skopeo", "umoci", "oci-image-tool", "chroot")
    need_root()
    _, arch, *variant = platform.split("/")
    single = copy_platform(f"oci:{hello_all['layout']}:{REF}", str(tmp_path / "one"), arch,
                           variant[0] if variant else "")
    run(["oci-image-tool", "validate", "--type", "image", "--ref", "name=app", str(tmp_path / "one")])
    bundle = unpack(single, str(tmp_path / "bundle"))
    assert bundle.process["user"]["uid"] == 65532 and bundle.process["user"]["gid"] == 65532
    binary = os.stat(os.path.join(bundle.rootfs, "ko-app", "hello-go"))
    assert (binary.st_mode & 0o7777, binary.st_uid, binary.st_gid) == (0o755, 0, 0)
    tmp = os.stat(os.path.join(bundle.rootfs, "tmp"))
    assert tmp.st_mode & 0o7777 == 0o1777
    home = os.stat(os.path.join(bundle.rootfs, "home", "nonroot"))
    assert (home.st_mode & 0o7777, home.st_uid) == (0o700, 65532)

    proc = run_in_rootfs(bundle, arch)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected_arch = {"386": "386"}.get(arch, arch)
    assert f"Hello from pyko! (linux/{expected_arch}) version=dev" in proc.stdout
    assert "uid=65532 gid=65532 user=nonroot" in proc.stdout
    assert "ca-certificates: ok" in proc.stdout
    assert "timezone: ok Europe/Berlin is CET" in proc.stdout
    assert "kodata: ok Greetings from kodata." in proc.stdout


def test_amd64_image_runs_under_runc(hello_all, tmp_path):
    need("skopeo", "umoci", "runc")
    need_root()
    single = copy_platform(f"oci:{hello_all['layout']}:{REF}", str(tmp_path / "one"), "amd64")
    bundle = unpack(single, str(tmp_path / "bundle"))
    proc = runc_run(bundle, str(tmp_path / "runc-state"), f"pyko-test-{os.getpid()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "uid=65532 gid=65532 user=nonroot" in proc.stdout
    assert "kodata: ok Greetings from kodata." in proc.stdout


def test_adding_to_a_layout_keeps_what_is_there(hello_all, session_env, hello_src, tmp_path):
    need("skopeo")
    layout = str(tmp_path / "layout")
    first = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", layout, "-t", "one",
                 env=session_env)
    assert first.returncode == 0, first.stderr
    second = pyko("build", hello_src, "--platform", "linux/arm64", "--oci-layout", layout, "-t", "two",
                  env=session_env)
    assert second.returncode == 0, second.stderr
    one = skopeo_raw(f"oci:{layout}:hello-go:one")
    two = skopeo_raw(f"oci:{layout}:hello-go:two")
    assert [m["platform"]["architecture"] for m in one["manifests"]] == ["amd64"]
    assert [m["platform"]["architecture"] for m in two["manifests"]] == ["arm64"]
    # Moving a tag replaces that entry only.
    third = pyko("build", hello_src, "--platform", "linux/s390x", "--oci-layout", layout, "-t", "one",
                 env=session_env)
    assert third.returncode == 0, third.stderr
    with open(os.path.join(layout, "index.json")) as f:
        names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(f)["manifests"]]
    assert sorted(names) == ["hello-go:one", "hello-go:two"]
    assert skopeo_raw(f"oci:{layout}:hello-go:one")["manifests"][0]["platform"]["architecture"] == "s390x"


def test_docker_tarball_matches_docker_load_format(session_env, hello_src, tmp_path):
    need("skopeo")
    archive = str(tmp_path / "hello.tar")
    proc = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--tarball", archive,
                "-t", "v1", env=session_env)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert isinstance(manifest, list) and len(manifest) == 1
        entry = manifest[0]
        assert entry["RepoTags"] == ["hello-go:v1"]  # an explicit tag, as docker load requires
        config = json.load(tar.extractfile(entry["Config"]))
        assert config["architecture"] == "amd64"
        assert len(entry["Layers"]) == len(config["rootfs"]["diff_ids"])
        for path, diff_id in zip(entry["Layers"], config["rootfs"]["diff_ids"]):
            data = tar.extractfile(path).read()
            assert "sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest() == diff_id
        index = json.load(tar.extractfile("index.json"))
        assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == "docker.io/library/hello-go:v1"
    # skopeo reads both halves: docker's manifest.json and the OCI layout.
    assert skopeo_config(f"docker-archive:{archive}")["config"]["User"] == "65532"
    oci = skopeo_raw(f"oci-archive:{archive}:v1")
    assert [m["platform"]["architecture"] for m in oci["manifests"]] == ["amd64", "arm64"]


def test_entrypoint_and_user_options(session_env, hello_src, tmp_path):
    need("skopeo")
    layout = str(tmp_path / "layout")
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", layout,
                "--entrypoint", "--user", "1000:1000", env=session_env)
    assert proc.returncode == 0, proc.stderr
    cfg = skopeo_config(f"oci:{layout}:{REF}", "amd64")
    assert cfg["config"]["Entrypoint"] == ["/ko-app/hello-go"]
    assert "Cmd" not in cfg["config"]
    assert cfg["config"]["User"] == "1000:1000"
