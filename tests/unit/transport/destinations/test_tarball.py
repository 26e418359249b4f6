"""transport/destinations/tarball.py: one archive docker load takes, no attachments."""
import tarfile

from pyko.platforms import Platform
from pyko.transport.destinations import Outgoing
from pyko.transport.destinations.tarball import TarballDestination

from tiny_images import tiny_index


def test_the_archive_is_written_and_says_which_platform_docker_load_gives(tmp_path):
    host = Platform.host()
    index = tiny_index((host.architecture,))
    destination = TarballDestination(str(tmp_path / "app.tar"))
    destination.check()
    line = destination.write(Outgoing("app", index, ("v1",)))
    assert line.startswith(f"wrote {tmp_path / 'app.tar'} (docker load gives linux/{host.architecture}")
    with tarfile.open(tmp_path / "app.tar") as tar:
        assert {"manifest.json", "index.json", "oci-layout"} <= set(tar.getnames())
    assert destination.attachments(Outgoing("app", index, ("v1",))) is None


def test_an_image_written_alone_is_what_index_json_names(tmp_path):
    import json

    index = tiny_index(("amd64",))
    image, = index.images
    TarballDestination(str(tmp_path / "app.tar")).write(Outgoing("app", index, ("v1",), alone=True))
    with tarfile.open(tmp_path / "app.tar") as tar:
        named = json.load(tar.extractfile("index.json"))["manifests"]
        assert [m["digest"] for m in named] == [image.digest]
        assert f"blobs/sha256/{index.digest.split(':')[1]}" not in tar.getnames()
