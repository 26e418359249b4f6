"""transport/oci_layout_images.py: an image read back from a layout, every document checked, and
its layers the layout's own regular files of the right size."""
import os

import pytest

from pyko.errors import MalformedInput, OutputError
from pyko.platforms import Platform
from pyko.transport import oci_layout
from pyko.transport.oci_layout_images import LayoutImage

from tiny_images import tiny_index


def test_an_index_reads_back_with_platforms_layers_and_annotations(tmp_path):
    path, index = str(tmp_path / "layout"), tiny_index(("amd64", "arm64"), {"org.example": "index"}, per_image=True)
    oci_layout.write_layout(path, index, [("app:v1", "app:v1")])
    read = LayoutImage(path, "app:v1")
    assert read.digest == index.digest and set(read.platforms()) == set(index.platforms())
    arm = read.image_for(Platform.parse("linux/arm64"))
    assert arm.digest == index.image_for(Platform.parse("linux/arm64")).digest
    with arm.layers[0].blob.open() as f:
        assert f.read() == b"layer-arm64"
    assert read.own_annotations() == {"org.example": "index"}
    assert read.own_annotations(Platform.parse("linux/arm64")) == {"per": "arm64"}


def test_a_missing_name_a_missing_blob_and_a_linked_blob_are_refused(tmp_path):
    path, index = str(tmp_path / "layout"), tiny_index(("amd64", "arm64"), {"org.example": "index"}, per_image=True)
    oci_layout.write_layout(path, index, [("app:v1", "app:v1")])
    with pytest.raises(OutputError, match="has no image named app:v2"):
        LayoutImage(path, "app:v2")
    layer = index.images[0].layers[0].descriptor
    blob = oci_layout.blob_path(path, layer.digest)
    os.rename(blob, blob + ".away")
    with pytest.raises(OutputError, match="lacks blob"):
        LayoutImage(path, "app:v1")
    os.symlink(blob + ".away", blob)
    with pytest.raises(MalformedInput, match="is not a regular file"):
        LayoutImage(path, "app:v1")
