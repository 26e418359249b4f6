"""supplychain/attestations.py: attestations signed and stored (legacy .att), found and verified by
type with a key; cosign's --type names and the signature formats."""
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import UsageError, VerificationError
from pyko.image import Descriptor, mediatypes
from pyko.supplychain.attestations import (
    TYPES,
    Attestation,
    attest,
    format_or_default,
    predicate_type,
    verify_attestations,
)
from pyko.supplychain.signers import KeySigner

from memory_store import MemoryStore

SUBJECT = Descriptor(mediatypes.OCI_INDEX, "sha256:" + "ab" * 32, 100)
SPDX, SLSA = TYPES["spdxjson"], TYPES["slsaprovenance1"]


def _attested(store, key):
    items = [Attestation(SUBJECT, "reg.io/app", SPDX, {"spdxVersion": "SPDX-2.3"}),
             Attestation(SUBJECT, "reg.io/app", SLSA, {"buildDefinition": {}})]
    return attest(store, items, KeySigner(key), "legacy", "1970-01-01T00:00:00Z")


def test_legacy_attestations_share_one_att_manifest_and_a_rebuild_adds_nothing():
    store, key = MemoryStore(), ec.generate_private_key(ec.SECP256R1())
    [(tag, digest)] = _attested(store, key)
    assert tag == "sha256-" + "ab" * 32 + ".att"
    assert _attested(store, key) == [(tag, digest)]  # deterministic signatures: the same manifest


def test_verified_by_type_with_the_right_key_only():
    store, key = MemoryStore(), ec.generate_private_key(ec.SECP256R1())
    _attested(store, key)
    [statement] = verify_attestations(store, SUBJECT.digest, key.public_key(), SLSA, "reg.io/app")
    assert statement.predicate_type == SLSA and statement.names_digest(SUBJECT.digest)
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(VerificationError, match="no valid .* attestation for reg.io/app"):
        verify_attestations(store, SUBJECT.digest, other, SLSA, "reg.io/app")
    with pytest.raises(VerificationError, match="no attestations found"):
        verify_attestations(MemoryStore(), SUBJECT.digest, key.public_key(), SLSA, "reg.io/app")


def test_cosigns_type_names_and_uris():
    assert predicate_type("spdxjson") == SPDX and predicate_type("https://example.com/p/v1") == "https://example.com/p/v1"
    with pytest.raises(UsageError, match="--type 'sbom'"):
        predicate_type("sbom")


def test_signature_formats():
    assert format_or_default(None) == "legacy" and format_or_default("bundle") == "bundle"
    with pytest.raises(UsageError, match="use legacy or bundle"):
        format_or_default("v3")
