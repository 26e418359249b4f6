"""keyless/checks.py: the SET, SCT and chain checks pyko makes, each with the trusted root's window
applied as sigstore-go applies it, and failing under its own name."""
import base64
import datetime
import hashlib
import json

import pytest

from pyko.supplychain.keyless.checks import LogEntry, check_chain, check_sct, check_set, check_validity, verify_ecdsa
from pyko.supplychain.keyless.identity import CheckFailed

from fake_sigstore import IDENTITY, ISSUER, new_signer

HOUR = datetime.timedelta(hours=1)


def _entry(fake, body=b'{"kind":"x","spec":{}}', key=None):
    logged = fake.log(json.loads(body), rekor_key=key)
    return LogEntry(base64.b64decode(logged["body"]), logged["integratedTime"], logged["logIndex"],
                    bytes.fromhex(logged["logID"]), base64.b64decode(logged["SET"]))


def test_a_set_verifies_only_with_its_logs_key_inside_the_keys_window(fake, policy):
    entry = _entry(fake)
    check_set(entry, policy().root)
    with pytest.raises(CheckFailed, match="SET: the log's key was not valid"):
        check_set(entry, policy(tlog_end=fake.stamp(-HOUR)).root)
    altered = LogEntry(entry.body + b" ", entry.integrated_time, entry.log_index, entry.log_id, entry.set)
    with pytest.raises(CheckFailed, match="SET: the SignedEntryTimestamp does not verify"):
        check_set(altered, policy().root)
    unknown = LogEntry(entry.body, entry.integrated_time, entry.log_index, b"\0" * 32, entry.set)
    with pytest.raises(CheckFailed, match="not one the trusted root names"):
        check_set(unknown, policy().root)


def test_chain_validity_and_sct_at_a_time(fake, policy):
    cert = new_signer(fake, IDENTITY, ISSUER).cert
    root, when = policy().root, fake.now
    chain = check_chain(cert, root, when)
    assert chain[0] == fake.intermediate
    check_validity(cert, when)
    check_sct(cert, chain[0], root)
    with pytest.raises(CheckFailed, match="certificate validity"):
        check_validity(cert, when + HOUR)
    with pytest.raises(CheckFailed, match="no Fulcio CA of the trusted root was valid"):
        check_chain(cert, policy(ca_end=fake.stamp(-HOUR)).root, when)
    with pytest.raises(CheckFailed, match="SCT: no embedded SCT verifies"):
        check_sct(cert, chain[0], policy(ct_end=fake.stamp(-2 * HOUR)).root)


def test_ecdsa_over_data_or_a_given_digest(fake):
    signer = new_signer(fake, IDENTITY, ISSUER)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    signature = signer.key.sign(b"data", ec.ECDSA(hashes.SHA256()))
    assert verify_ecdsa(signer.key.public_key(), signature, b"data")
    assert verify_ecdsa(signer.key.public_key(), signature, hashlib.sha256(b"data").digest(), prehashed=True)
    assert not verify_ecdsa(signer.key.public_key(), signature, b"other")
    assert not verify_ecdsa(signer.key.public_key(), b"not DER", b"data")
