"""transport/destinations/layout.py: entries named <name>:<tag>, checked before anything is built."""
import pytest

from pyko.errors import OutputError
from pyko.transport import oci_layout
from pyko.transport.destinations import Outgoing
from pyko.transport.destinations.layout import LayoutDestination

from tiny_images import tiny_index


def test_each_tag_is_an_entry_and_attachments_go_beside_them(tmp_path):
    destination, index = LayoutDestination(str(tmp_path / "out")), tiny_index()
    destination.check()
    out = Outgoing("app", index, ("v1", "latest"))
    assert destination.write(out) == f"wrote app:v1, app:latest to OCI layout {tmp_path / 'out'}"
    assert oci_layout.find(str(tmp_path / "out"), "app:latest").digest == index.digest
    assert destination.location(out) == str(tmp_path / "out") and not destination.takes_sboms
    assert destination.attachments(out).resolve("v1")[0] == index.digest


def test_an_unwritable_place_fails_the_check(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError):
        LayoutDestination(str(tmp_path / "file" / "out")).check()


def test_an_image_written_alone_is_the_entry_and_the_index_is_not_stored(tmp_path):
    destination, index = LayoutDestination(str(tmp_path / "out")), tiny_index()
    image, = index.images
    out = Outgoing("app", index, ("latest",), alone=True)
    destination.write(out)
    entry = oci_layout.find(str(tmp_path / "out"), "app:latest")
    assert entry.digest == image.digest and entry.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert not (tmp_path / "out" / "blobs" / "sha256" / index.digest.split(":")[1]).exists()
    assert (tmp_path / "out" / "blobs" / "sha256" / image.digest.split(":")[1]).exists()
