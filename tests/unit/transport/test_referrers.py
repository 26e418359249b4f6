"""transport/referrers.py: the sha256-<hex> fallback index for registries without the referrers API."""
import json

import pytest

from pyko.errors import MalformedInput
from pyko.image import BytesBlob, Descriptor, mediatypes
from pyko.transport import referrers

DIGEST = "sha256:" + "ab" * 32


class FallbackStore:
    """A store without the referrers API, keeping manifests by tag and by digest."""

    def __init__(self):
        self.tags, self.manifests = {}, {}

    def put_referrer(self, manifest, blobs):
        self.manifests[manifest.descriptor.digest] = manifest.data
        return False

    def referrers_index(self, digest):
        return None

    def manifest(self, tag):
        return self.tags.get(tag)

    def manifest_bytes(self, digest):
        return self.manifests[digest]

    def put(self, tag, manifest, blobs):
        self.tags[tag] = manifest.data


def test_the_fallback_index_lists_each_referrer_once():
    store, subject = FallbackStore(), Descriptor(mediatypes.OCI_MANIFEST, DIGEST, 10)
    layer = BytesBlob("application/spdx+json", b"{}")
    one = referrers.artifact(subject, "application/spdx+json", layer, {"k": "v"})
    two = referrers.artifact(subject, "application/example", BytesBlob("text/plain", b"x"))
    for manifest in (one, two, one):
        referrers.attach(store, subject, manifest, [referrers.EMPTY, layer])
    index = json.loads(store.tags[referrers.fallback_tag(DIGEST)])
    assert [(m["digest"], m["artifactType"]) for m in index["manifests"]] == [
        (one.descriptor.digest, "application/spdx+json"), (two.descriptor.digest, "application/example")]
    assert index["manifests"][0]["annotations"] == {"k": "v"}
    assert [e.digest for e in referrers.find(store, DIGEST, "application/example")] == [two.descriptor.digest]


class CountingStore:
    """A store whose fallback referrers index lists one referrer many times; counts manifest reads."""

    def __init__(self, entries):
        self.reads = 0
        self.index = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                                 "manifests": entries}).encode()

    def referrers_index(self, digest):
        return None

    def manifest(self, tag):
        return self.index

    def manifest_bytes(self, digest):
        self.reads += 1
        return json.dumps({"artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"}).encode()


def _entry(n):
    return {"mediaType": mediatypes.OCI_MANIFEST, "digest": "sha256:" + f"{n:064x}", "size": 10,
            "artifactType": "application/vnd.oci.empty.v1+json"}


def test_a_referrer_listed_2000_times_is_read_once():
    store = CountingStore([_entry(1)] * 2000)
    found = referrers.find(store, DIGEST, "application/vnd.dev.sigstore.bundle.v0.3+json")
    assert [entry.digest for entry in found] == [_entry(1)["digest"]] and store.reads == 1


def test_more_referrers_than_pyko_reads_is_one_error():
    store = CountingStore([_entry(n) for n in range(referrers.MAX_REFERRERS + 1)])
    with pytest.raises(MalformedInput, match=f"list {referrers.MAX_REFERRERS + 1} artifacts; pyko reads at most"):
        referrers.find(store, DIGEST)
    assert store.reads == 0
