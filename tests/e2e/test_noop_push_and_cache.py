"""The layer cache and the no-op push, against the real registry, checked with skopeo:
a no-op rebuild reuses the layer and uploads nothing; a corrupted cache entry is
rebuilt, never pushed; a changed binary is a new layer."""
import json
import shutil

from oci_tools import need, pyko, run

EPOCH = "1700000000"


def _build(env, binary, repo):
    proc = pyko("build", "--binary", f"linux/amd64={binary}", "--name", "app", "--repo", repo, "--sbom=none",
                env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().split("@", 1)[1], proc.stderr


def test_cache_reuse_corruption_and_change(registry, c_binaries, session_env, tmp_path):
    need("skopeo")
    env = dict(session_env, PYKO_CACHE_DIR=str(tmp_path / "cache"), SOURCE_DATE_EPOCH=EPOCH)
    binary = c_binaries["linux/amd64"]
    first, log = _build(env, binary, f"{registry.host}/cache-a")
    assert "layer cache" not in log  # nothing to reuse yet

    again, log = _build(env, binary, f"{registry.host}/cache-a")
    assert again == first
    assert "layer cache: 1 layer(s) reused, 0 written" in log
    assert "uploaded 0 blob(s), 0 bytes" in log and "1 tag(s) already pointed at it" in log

    # Damage the cached layer: it must be rebuilt, and what lands in a new repository must be intact.
    manifest = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--override-arch", "amd64",
                               f"docker://{registry.host}/cache-a/app@{first}"]).stdout)
    image = manifest["manifests"][0]["digest"]
    layers = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                             f"docker://{registry.host}/cache-a/app@{image}"]).stdout)["layers"]
    cached = tmp_path / "cache" / "blobs" / "sha256" / layers[-1]["digest"].split(":")[1]
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached.write_bytes(bytes(data))
    rebuilt, log = _build(env, binary, f"{registry.host}/cache-b")
    assert rebuilt == first and "layer cache" not in log
    run(["skopeo", "copy", "--all", "--src-tls-verify=false", f"docker://{registry.host}/cache-b/app:latest",
         f"oci:{tmp_path}/copy:app"])  # skopeo checks every digest

    # A changed binary is a new layer and a new image.
    changed = tmp_path / "changed"
    changed.write_bytes(open(binary, "rb").read() + b"x")  # one more byte: the ELF check still passes
    other, log = _build(env, str(changed), f"{registry.host}/cache-a")
    assert other != first and "layer cache" not in log
    shutil.rmtree(tmp_path / "copy")
