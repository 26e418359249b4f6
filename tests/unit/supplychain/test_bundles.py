"""supplychain/bundles.py: key-signed Sigstore bundles stored as cosign v3 stores them."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import MalformedInput
from pyko.image import Descriptor, mediatypes
from pyko.supplychain import bundles, dsse

DIGEST = "sha256:" + "ab" * 32


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
