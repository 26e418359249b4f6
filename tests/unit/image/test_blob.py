"""image/blob.py: canonical JSON, descriptors checked field by field, blobs that open lazily."""
import pytest

from pyko.errors import MalformedInput
from pyko.image.blob import BytesBlob, Descriptor, Layer, LazyBlob, canonical_json, string_map
from pyko.image.digest import sha256_digest
from pyko.platforms import Platform

DIGEST = "sha256:" + "c" * 64


def test_canonical_json_is_compact_ordered_and_utf8():
    assert canonical_json({"b": 1, "a": "é"}) == '{"b":1,"a":"é"}'.encode()


def test_a_descriptor_round_trips_with_its_optional_fields():
    desc = Descriptor("application/vnd.oci.image.manifest.v1+json", DIGEST, 7, Platform.parse("linux/arm/v7"),
                      {"k": "v"}, "application/spdx+json")
    assert Descriptor.from_json(desc.to_json()) == desc
    assert (desc.hex, desc.algorithm) == ("c" * 64, "sha256")
    assert desc.with_(size=8).size == 8 and desc.size == 7


@pytest.mark.parametrize("obj, says", [
    ([], "must be a JSON object"),
    ({"digest": DIGEST, "size": 1}, "no valid mediaType"),
    ({"mediaType": "m", "digest": DIGEST, "size": -1}, "not a valid size"),
    ({"mediaType": "m", "digest": DIGEST, "size": True}, "not a valid size"),
    ({"mediaType": "m", "digest": DIGEST, "size": 1 << 51}, "not a valid size"),
    ({"mediaType": "m", "digest": "sha256:../x", "size": 1}, "not a valid digest"),
    ({"mediaType": "m", "digest": DIGEST, "size": 1, "platform": "linux"}, "platform is not a JSON object"),
    ({"mediaType": "m", "digest": DIGEST, "size": 1, "artifactType": 5}, "artifactType is not a string"),
    ({"mediaType": "m", "digest": DIGEST, "size": 1, "annotations": {"k": 1}}, "must be an object of strings"),
])
def test_a_descriptor_from_outside_is_refused_naming_where(obj, says):
    with pytest.raises(MalformedInput, match=f"index.json.*{says}"):
        Descriptor.from_json(obj, "index.json")


def test_our_own_descriptors_carry_safe_digests_too():
    with pytest.raises(MalformedInput):
        Descriptor("m", "sha256:../../etc/passwd", 1)


def test_string_maps():
    assert string_map(None, "labels") == {} and string_map({"a": "b"}, "labels") == {"a": "b"}
    with pytest.raises(MalformedInput, match="labels must be an object of strings"):
        string_map(["a"], "labels")


def test_blobs_open_their_bytes_and_a_lazy_one_fetches_only_when_opened(tmp_path):
    blob = BytesBlob("m", b"data")
    assert blob.descriptor.digest == sha256_digest(b"data") and blob.open().read() == b"data"
    path = tmp_path / "blob"
    path.write_bytes(b"data")
    fetched = []
    lazy = LazyBlob(blob.descriptor, lambda: fetched.append(1) or str(path))
    layer = Layer(lazy, "sha256:" + "d" * 64, source="reg.io/base")
    assert layer.descriptor == blob.descriptor and fetched == []
    with lazy.open() as f:
        assert f.read() == b"data"
    assert fetched == [1]
