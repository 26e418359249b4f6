"""supplychain/verify.py: signatures verified with a key on any attachment store; every way one fails."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import VerificationError
from pyko.supplychain.sign import sign_digest
from pyko.supplychain.verify import KeyVerifier, verify_signatures

from memory_store import MemoryStore

DIGEST = "sha256:" + "ab" * 32


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
