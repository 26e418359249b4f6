"""supplychain/dsse.py: the PAE encoding, and envelopes that verify only with their key and their bytes."""
import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import MalformedInput
from pyko.supplychain import dsse

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


