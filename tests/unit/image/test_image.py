"""image/image.py: manifests serialised once, platforms from the
config, every blob of an index listed once, children first."""
import json

import pytest

from pyko.image import Image, Index
from pyko.platforms import Platform

from tiny_images import empty_image, history_layer


def test_an_images_manifest_names_its_config_and_layers_and_sorted_annotations():
    layer = history_layer(b"one")
    image = Image.build({"os": "linux", "architecture": "amd64"}, [layer], {"z": "1", "a": "2"})
    manifest = json.loads(image.manifest.open().read())
    assert manifest["config"]["digest"] == image.config.descriptor.digest
    assert [entry["digest"] for entry in manifest["layers"]] == [layer.descriptor.digest]
    assert list(manifest["annotations"]) == ["a", "z"]
    assert image.platform == Platform.parse("linux/amd64") and image.digest == image.descriptor.digest


def test_an_index_lists_each_blob_once_children_first_and_finds_platforms():
    shared = history_layer(b"base")
    amd, arm = empty_image("amd64", [shared]), empty_image("arm64", [shared])
    index = Index.build([amd, arm])
    digests = [blob.descriptor.digest for blob in index.all_blobs()]
    assert len(digests) == len(set(digests)) and digests[-1] == index.digest
    assert digests.index(amd.digest) < digests.index(index.digest)
    assert index.platforms() == [Platform.parse("linux/amd64"), Platform.parse("linux/arm64")]
    assert index.image_for(Platform.parse("linux/arm64")) is arm
    with pytest.raises(KeyError):
        index.image_for(Platform.parse("linux/s390x"))


