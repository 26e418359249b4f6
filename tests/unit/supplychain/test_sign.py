"""Signing, verifying and SBOM attachment on an attachment store (an in-memory one here)."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import VerificationError
from pyko.image import BytesBlob, mediatypes
from pyko.supplychain.sign import attach_sbom, sign_digest, subjects
from pyko.supplychain.verify import KeyVerifier, verify_signatures

DIGEST = "sha256:" + "ab" * 32


class MemoryStore:
    """The AttachmentStore protocol over dicts."""

    def __init__(self):
        self.tags, self.blobs = {}, {}

    def resolve(self, ident):
        data = self.tags[ident]
        return BytesBlob("", data).descriptor.digest, json.loads(data)["mediaType"]

    def manifest(self, tag):
        return self.tags.get(tag)

    def manifest_bytes(self, digest):
        return next(d for d in self.tags.values() if BytesBlob("", d).descriptor.digest == digest)

    def blob(self, desc):
        return self.blobs[desc.digest]

    def put(self, tag, manifest, blobs):
        for blob in blobs:
            self.blobs[blob.descriptor.digest] = blob.data
        self.tags[tag] = manifest.data

    def referrers_index(self, digest):
        return None  # no referrers API: the sha256-<hex> tag is used


def test_sign_then_verify_and_each_way_it_fails():
    store, key, other = MemoryStore(), ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    sign_digest(store, DIGEST, "reg.io/app", key, {"env": "prod"})
    sign_digest(store, DIGEST, "reg.io/app", key, {"env": "prod"})  # deterministic ECDSA: the same signature
    tag = "sha256-" + "ab" * 32 + ".sig"
    assert len(json.loads(store.tags[tag])["layers"]) == 1
    sign_digest(store, DIGEST, "reg.io/app", key, {"env": "prod", "n": "2"})
    assert len(json.loads(store.tags[tag])["layers"]) == 2  # another payload: appended, as cosign does
    payloads = verify_signatures(store, DIGEST, KeyVerifier(key.public_key()), {"env": "prod"}, "app")
    assert len(payloads) == 2
    assert json.loads(payloads[0])["critical"]["image"]["docker-manifest-digest"] == DIGEST
    with pytest.raises(VerificationError, match="does not verify with this key"):
        verify_signatures(store, DIGEST, KeyVerifier(other.public_key()), {}, "app")
    with pytest.raises(VerificationError, match="annotations do not match"):
        verify_signatures(store, DIGEST, KeyVerifier(key.public_key()), {"env": "dev"}, "app")
    with pytest.raises(VerificationError, match="no signatures found"):
        verify_signatures(store, "sha256:" + "cd" * 32, KeyVerifier(key.public_key()), {}, "app")


def test_sbom_goes_under_cosigns_tag():
    store = MemoryStore()
    assert attach_sbom(store, DIGEST, b'{"spdxVersion":"SPDX-2.3"}')[0].tag == "sha256-" + "ab" * 32 + ".sbom"
    layer = json.loads(store.tags["sha256-" + "ab" * 32 + ".sbom"])["layers"][0]
    assert layer["mediaType"] == "text/spdx+json" and store.blobs[layer["digest"]] == b'{"spdxVersion":"SPDX-2.3"}'


def test_subjects_of_an_index_recursively():
    store = MemoryStore()
    child = {"mediaType": mediatypes.OCI_MANIFEST, "digest": DIGEST, "size": 1}
    store.tags["latest"] = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                                       "manifests": [child]}).encode()
    index_digest, _ = store.resolve("latest")
    assert subjects(store, "latest", recursive=False) == [index_digest]
    assert subjects(store, "latest", recursive=True) == [index_digest, DIGEST]


