"""Merging indexes: one entry per platform in pyko's order, duplicates refused unless preferred,
annotations kept where the sources agree, the bytes exactly as pyko build writes an index."""
import pytest

from pyko.commands.index import Entry, agreed, choose, index_manifest
from pyko.errors import UsageError
from pyko.image import BytesBlob, Layer, mediatypes
from pyko.image.image import Image, Index
from pyko.platforms import Platform


def _image(arch: str, salt: bytes) -> Image:
    blob = BytesBlob(mediatypes.OCI_LAYER_GZIP, salt)
    config = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [blob.descriptor.digest]}}
    return Image.build(config, [Layer(blob, blob.descriptor.digest)])


def _entry(image: Image, source: str) -> Entry:
    return Entry(image.platform, image.descriptor.with_(platform=image.platform), source, None)


def test_the_merged_index_is_byte_identical_to_one_build():
    amd64, arm64 = _image("amd64", b"a"), _image("arm64", b"b")
    built = Index.build([amd64, arm64], {"org.opencontainers.image.revision": "abc"})
    chosen = choose([_entry(arm64, "runner-2"), _entry(amd64, "runner-1")], prefer=())
    merged = index_manifest(chosen, {"org.opencontainers.image.revision": "abc"})
    assert merged.data == built.manifest.data and merged.descriptor.digest == built.digest


def test_duplicates_prefer_and_append():
    one, other = _image("amd64", b"1"), _image("amd64", b"2")
    with pytest.raises(UsageError, match="linux/amd64 is offered by both a and b: say which to take with --prefer"):
        choose([_entry(one, "a"), _entry(other, "b")], prefer=())
    assert choose([_entry(one, "a"), _entry(other, "b")], prefer=("b",))[0].descriptor.digest == other.digest
    assert choose([_entry(one, "a"), _entry(one, "b")], prefer=())[0].source == "a"  # the same image twice: fine
    assert choose([_entry(one, "old"), _entry(other, "new")], (), replaceable=("old",))[0].source == "new"
    assert [e.platform for e in choose([_entry(_image("s390x", b"s"), "x"), _entry(one, "y")], ())] == \
        [Platform("linux", "amd64"), Platform("linux", "s390x")]


def test_annotations_kept_where_the_sources_agree():
    notes = []
    merged = agreed([{"a": "1", "b": "x"}, {"a": "1", "b": "y", "c": "3"}], notes.append)
    assert merged == {"a": "1", "c": "3"} and "disagree on annotation b" in notes[0]
