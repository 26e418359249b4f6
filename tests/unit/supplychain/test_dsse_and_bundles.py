"""DSSE envelopes, in-toto statements, Sigstore bundles and referrers, without a registry."""
import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import MalformedInput
from pyko.image import BytesBlob, Descriptor, mediatypes
from pyko.supplychain import bundles, dsse
from pyko.transport import referrers

DIGEST = "sha256:" + "ab" * 32


def test_pae_is_the_specs():
    # The example in the DSSE protocol document.
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == \
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


def test_envelopes_verify_only_with_their_key_and_their_bytes():
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    body = dsse.statement([("reg.io/app", DIGEST)], "https://example.com/p", {"x": 1}, {"team": "a"})
    envelope = dsse.envelope(key, body)
    assert envelope == dsse.envelope(key, body)  # deterministic ECDSA
    statement = dsse.parse_statement(dsse.verify_envelope(key.public_key(), envelope, "e"), "e")
    assert statement.names_digest(DIGEST) and not statement.names_digest("sha256:" + "cd" * 32)
    assert statement.subject_annotations(DIGEST) == {"team": "a"} and statement.predicate == {"x": 1}
    with pytest.raises(MalformedInput, match="no signature of the envelope verifies"):
        dsse.verify_envelope(other.public_key(), envelope, "e")
    altered = dict(envelope, payload=base64.b64encode(body.replace(b'"x":1', b'"x":2')).decode())
    with pytest.raises(MalformedInput, match="no signature of the envelope verifies"):
        dsse.verify_envelope(key.public_key(), altered, "e")
    for bad in ([], {"payload": 1}, {"payloadType": "t", "payload": "%%%", "signatures": []}):
        with pytest.raises(MalformedInput):
            dsse.verify_envelope(key.public_key(), bad, "e")


def test_a_bundle_referrer_is_what_cosign_v3_writes():
    key = ec.generate_private_key(ec.SECP256R1())
    body = dsse.statement([("reg.io/app", DIGEST)], bundles.SIGN_PREDICATE, {})
    bundle = bundles.signed_bundle(key, body)
    doc = json.loads(bundle)
    assert doc["mediaType"] == bundles.BUNDLE_V03 and doc["verificationMaterial"]["publicKey"]["hint"] == \
        bundles.key_hint(key.public_key())
    assert dsse.verify_envelope(key.public_key(), bundles.envelope_of(bundle, "b"), "b") == body
    subject = Descriptor(mediatypes.OCI_INDEX, DIGEST, 289)
    manifest, blobs = bundles.bundle_referrer(subject, bundle, bundles.SIGN_PREDICATE, "2023-11-14T22:13:20Z")
    doc = json.loads(manifest.data)
    assert doc["artifactType"] == bundles.BUNDLE_V03 and doc["subject"]["digest"] == DIGEST
    assert doc["config"]["digest"] == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    assert doc["annotations"] == {bundles.CONTENT: "dsse-envelope", bundles.CREATED: "2023-11-14T22:13:20Z",
                                  bundles.PREDICATE_TYPE: bundles.SIGN_PREDICATE}
    assert [b.descriptor.media_type for b in blobs] == ["application/vnd.oci.empty.v1+json", bundles.BUNDLE_V03]
    with pytest.raises(MalformedInput, match="not a Sigstore bundle"):
        bundles.envelope_of(b'{"mediaType": "other"}', "b")


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
