"""The docker-load tarball: an OCI layout plus manifest.json, byte-reproducible."""
import io
import json
import tarfile

from pyko.image import Image, Index
from pyko.image.layer import file_entry, write_layer
from pyko.platforms import Platform
from pyko.transport.tarball import write_tarball


def _index(tmp_path):
    images = []
    for arch in ("amd64", "arm64"):
        layer = write_layer([file_entry("/f", data=arch.encode())], str(tmp_path / arch))
        images.append(Image.build({"architecture": arch, "os": "linux",
                                   "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}}, [layer]))
    return Index.build(images)


def test_tarball_contents_and_reproducibility(tmp_path):
    index = _index(tmp_path)
    path = tmp_path / "app.tar"
    chosen = write_tarball(str(path), index, ["app:latest", "app:v1"],
                           ["docker.io/library/app:latest", "docker.io/library/app:v1"], Platform("linux", "arm64"))
    assert chosen.platform == Platform("linux", "arm64")
    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        oci_index = json.load(tar.extractfile("index.json"))
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
    assert names[:2] == ["blobs", "blobs/sha256"] and {"oci-layout", "index.json", "manifest.json"} <= set(names)
    assert manifest == [{"Config": f"blobs/sha256/{chosen.config.descriptor.hex}", "RepoTags": ["app:latest", "app:v1"],
                         "Layers": [f"blobs/sha256/{layer.descriptor.hex}" for layer in chosen.layers]}]
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in oci_index["manifests"]] == ["latest", "v1"]
    first = path.read_bytes()
    write_tarball(str(path), index, ["app:latest", "app:v1"],
                  ["docker.io/library/app:latest", "docker.io/library/app:v1"], Platform("linux", "arm64"))
    assert path.read_bytes() == first
    assert io.BytesIO(first).getbuffer().nbytes % 512 == 0
