"""supplychain/verify.py: signatures verified with a key on any attachment store; every way one fails."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import MalformedInput, VerificationError
from pyko.image import Descriptor, mediatypes
from pyko.supplychain.sign import sign_digest
from pyko.supplychain.signers import KeySigner
from pyko.supplychain.verify import KeyVerifier, verify_signatures

from memory_store import MemoryStore

DIGEST = "sha256:" + "ab" * 32
SUBJECT = Descriptor(mediatypes.OCI_MANIFEST, DIGEST, 100)


def test_sign_then_verify_and_each_way_it_fails():
    store, key, other = MemoryStore(), ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    sign_digest(store, SUBJECT, "reg.io/app", KeySigner(key), {"env": "prod"})
    # deterministic ECDSA: the same signature
    sign_digest(store, SUBJECT, "reg.io/app", KeySigner(key), {"env": "prod"})
    tag = "sha256-" + "ab" * 32 + ".sig"
    assert len(json.loads(store.tags[tag])["layers"]) == 1
    sign_digest(store, SUBJECT, "reg.io/app", KeySigner(key), {"env": "prod", "n": "2"})
    assert len(json.loads(store.tags[tag])["layers"]) == 2  # another payload: appended, as cosign does
    verified = verify_signatures(store, DIGEST, KeyVerifier(key.public_key()), {"env": "prod"}, "app")
    assert len(verified) == 2 and verified[0].where == f"signature 1 ({tag})"
    assert verified[0].checks == "signature with the key, digest claim"
    assert json.loads(verified[0].payload)["critical"]["image"]["docker-manifest-digest"] == DIGEST
    with pytest.raises(VerificationError, match="does not verify with this key"):
        verify_signatures(store, DIGEST, KeyVerifier(other.public_key()), {}, "app")
    with pytest.raises(VerificationError, match="annotations do not match"):
        verify_signatures(store, DIGEST, KeyVerifier(key.public_key()), {"env": "dev"}, "app")
    with pytest.raises(VerificationError, match="no signatures found"):
        verify_signatures(store, "sha256:" + "cd" * 32, KeyVerifier(key.public_key()), {}, "app")


def _manifest_with(layers):
    return json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + "0" * 64, "size": 2}, "layers": layers}).encode()


def test_one_bad_layer_does_not_hide_a_good_one_and_cosigns_limit_of_layers_applies():
    """cosign reads up to 1000 layers of a .sig manifest and judges each on its own."""
    store, key = MemoryStore(), ec.generate_private_key(ec.SECP256R1())
    sign_digest(store, SUBJECT, "reg.io/app", KeySigner(key), {})
    tag = "sha256-" + "ab" * 32 + ".sig"
    good = json.loads(store.tags[tag])["layers"][0]
    broken = dict(good, annotations={"dev.cosignproject.cosign/signature": 7})   # not a string
    store.tags[tag] = _manifest_with([broken] * 200 + [good])
    verified = verify_signatures(store, DIGEST, KeyVerifier(key.public_key()), {}, "app")
    assert [v.where for v in verified] == [f"signature 201 ({tag})"]
    store.tags[tag] = _manifest_with([broken] * 1000 + [good])
    with pytest.raises(MalformedInput, match="1001 layers; cosign and pyko read at most 1000"):
        verify_signatures(store, DIGEST, KeyVerifier(key.public_key()), {}, "app")


def test_a_payload_with_case_twin_keys_is_refused():
    """Go's decoder would read `CRITICAL` as `critical` (the last one wins); pyko reads neither."""
    from pyko.supplychain import cosign

    store, key = MemoryStore(), ec.generate_private_key(ec.SECP256R1())
    payload = (b'{"critical":{"identity":{"docker-reference":"reg.io/app"},"image":{"docker-manifest-digest":"'
               + DIGEST.encode() + b'"},"type":"cosign container image signature"},"optional":null,'
               b'"CRITICAL":{"image":{"docker-manifest-digest":"sha256:' + b"cd" * 32 + b'"}}}')
    signature = {cosign.SIGNATURE_ANNOTATION: cosign.sign(key, payload)}
    layer = cosign.ArtifactLayer(cosign.SIMPLESIGNING, payload, signature)
    manifest, blobs = cosign.artifact_manifest([layer])
    store.put("sha256-" + "ab" * 32 + ".sig", manifest, blobs)
    with pytest.raises(VerificationError, match="keys that differ only in case"):
        verify_signatures(store, DIGEST, KeyVerifier(key.public_key()), {}, "app")
