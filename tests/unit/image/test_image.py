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




def test_an_index_of_one_image_can_name_the_image_alone_with_just_its_blobs():
    from tiny_images import tiny_index

    one, two = tiny_index(("amd64",)), tiny_index(("amd64", "arm64"))
    image, = one.images
    assert one.top() is one and one.top(alone=True) is image and two.top(alone=True) is two
    assert [b.descriptor.digest for b in one.blobs_under(image)] == [
        image.config.descriptor.digest, *(layer.descriptor.digest for layer in image.layers), image.digest]
    assert [b.descriptor.digest for b in one.blobs_under(one)] == [b.descriptor.digest for b in one.all_blobs()]
