"""signers.py: a key signs the three things pyko stores, deterministically, with no extra annotations."""
import json

from cryptography.hazmat.primitives.asymmetric import ec

from pyko.supplychain import bundles, cosign, dsse
from pyko.supplychain.signers import KeySigner, SignerRequest

STATEMENT = dsse.statement([("reg.io/app", "sha256:" + "ab" * 32)], bundles.SIGN_PREDICATE, {})


def test_a_key_signs_payloads_envelopes_and_bundles_that_its_public_key_verifies():
    key = ec.generate_private_key(ec.SECP256R1())
    signer = KeySigner(key, "ci.key")
    signer.prepare()
    signature, extra = signer.sign_payload(b"payload")
    assert extra == {} and cosign.verify(key.public_key(), b"payload", signature)
    envelope, extra = signer.sign_envelope(STATEMENT)
    assert extra == {} and dsse.verify_envelope(key.public_key(), envelope, "envelope") == STATEMENT
    bundle = signer.sign_bundle(STATEMENT)
    assert json.loads(bundle)["verificationMaterial"]["publicKey"]["hint"] == bundles.key_hint(key.public_key())
    assert signer.sign_bundle(STATEMENT) == bundle   # RFC 6979: a rebuild stores nothing new
    assert signer.description == "key ci.key"


def test_a_request_wants_signing_with_a_key_or_keyless():
    assert not SignerRequest().wanted
    assert SignerRequest(key="ci.key").wanted and SignerRequest(keyless=True).wanted
