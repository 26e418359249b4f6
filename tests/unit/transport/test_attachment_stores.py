"""transport/attachment_stores.py: a layout as an attachment store; resolve() checks that the
image really is there. (The registry store runs against real registries end to end.)"""
import json

import pytest

from pyko.errors import MalformedInput, PykoError
from pyko.image import BytesBlob
from pyko.transport import oci_layout
from pyko.transport.attachment_stores import LayoutAttachments

from tiny_images import tiny_index


@pytest.fixture
def layout_with_app(tmp_path):
    index = tiny_index()
    path = str(tmp_path / "layout")
    oci_layout.write_layout(path, index, [("app:v1", "app:v1")])
    return path, index


def test_resolve_by_tag_and_by_digest(layout_with_app):
    path, index = layout_with_app
    store = LayoutAttachments(path, "app")
    assert store.resolve("v1") == (index.digest, index.descriptor.media_type)
    assert store.resolve(index.digest)[0] == index.digest
    with pytest.raises(PykoError, match="has no image named app:v2"):
        store.resolve("v2")
    with pytest.raises(MalformedInput):
        store.resolve("sha256:../../etc/passwd")


def test_put_stores_under_a_tag_beside_the_image_and_reads_back(layout_with_app):
    path, index = layout_with_app
    store = LayoutAttachments(path, "app")
    payload = BytesBlob("application/vnd.dev.cosign.simplesigning.v1+json", b"{}")
    manifest = BytesBlob("application/vnd.oci.image.manifest.v1+json", json.dumps(
        {"schemaVersion": 2, "layers": [payload.descriptor.to_json()]}).encode())
    tag = "sha256-" + index.descriptor.hex + ".sig"
    assert store.manifest(tag) is None
    store.put(tag, manifest, [payload])
    assert store.manifest(tag) == manifest.data and store.blob(payload.descriptor) == b"{}"
    assert store.manifest_bytes(manifest.descriptor.digest) == manifest.data
    assert not store.put_referrer(manifest, [payload]) and store.referrers_index(index.digest) is None
    assert oci_layout.find(path, "app:v1").digest == index.digest  # the image is still there
