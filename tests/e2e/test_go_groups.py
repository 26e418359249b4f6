"""Several main packages of one module compile in one go build per platform, and the binaries are
byte-identical to separate builds of each package."""
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

from oci_tools import need, need_root, pyko, unpack_and_run

MULTI = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "multi-go")


def _app_files(layout):
    """(binary name, arch) -> bytes of every /ko-app binary in a layout's images."""
    def blob(digest):
        with open(os.path.join(layout, "blobs", *digest.split(":")), "rb") as f:
            return f.read()
    out = {}
    for entry in json.loads(blob_index(layout))["manifests"]:
        for one in json.loads(blob(entry["digest"]))["manifests"]:
            manifest = json.loads(blob(one["digest"]))
            layer = gzip.decompress(blob(manifest["layers"][-1]["digest"]))
            with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
                for member in tar.getmembers():
                    if member.isfile() and member.name.lstrip("./").startswith("ko-app/"):
                        name = member.name.rsplit("/", 1)[-1]
                        out[name, one["platform"]["architecture"]] = tar.extractfile(member).read()
    return out


def blob_index(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return f.read()


def test_grouped_binaries_are_byte_identical_to_separate_builds(session_env, tmp_path):
    src = tmp_path / "multi"
    shutil.copytree(MULTI, src)
    layout = str(tmp_path / "layout")
    proc = pyko("build", "./cmd/server", "./cmd/cli", "--platform", "linux/amd64,linux/arm64",
                "--oci-layout", layout, cwd=str(src), env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert "go: 2 main packages compiled together, one go build per platform (2 invocation(s) in all)" in proc.stderr
    built = _app_files(layout)
    assert len(built) == 4
    for name in ("server", "cli"):
        for arch in ("amd64", "arm64"):
            out = str(tmp_path / f"{name}-{arch}")
            env = dict(session_env, CGO_ENABLED="0", GOOS="linux", GOARCH=arch)
            subprocess.run(["go", "build", "-trimpath", "-o", out, "."], cwd=str(src / "cmd" / name), env=env,
                           check=True, capture_output=True)
            with open(out, "rb") as f:
                assert built[name, arch] == f.read(), f"{name} {arch}: grouped and separate builds differ"
    # And they run: skopeo and umoci unpack each image, run as the image says (arm64 through qemu).
    need("skopeo", "umoci")
    need_root()
    assert "server: uid=65532" in unpack_and_run(f"oci:{layout}:server:latest", "arm64", str(tmp_path / "s"))
    assert "cli: uid=65532" in unpack_and_run(f"oci:{layout}:cli:latest", "amd64", str(tmp_path / "c"))
