"""transport/referrers.py: the sha256-<hex> fallback index for registries without the referrers API."""
import json

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
