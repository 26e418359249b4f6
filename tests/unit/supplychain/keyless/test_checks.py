"""Keyless building blocks without a registry: Merkle inclusion proofs (RFC 9162) for trees of
every shape, signed checkpoints, the issuer extension, policies from config and flags."""
import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import UsageError
from pyko.supplychain.keyless.checks import CheckFailed, LogEntry, check_inclusion
from pyko.supplychain.keyless.trustroot import LogKey, TrustedRoot, Window
from pyko.supplychain.policy import PRESETS, BasePolicy, from_flags, policy_from


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _mth(leaves):
    """The Merkle tree hash of RFC 6962, written from the definition (split at the largest power of 2)."""
    if len(leaves) == 1:
        return _leaf(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _path(index, leaves):
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if index < k:
        return _path(index, leaves[:k]) + [_mth(leaves[k:])]
    return _path(index - k, leaves[k:]) + [_mth(leaves[:k])]


@pytest.fixture
def log():
    key = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    log_id = hashlib.sha256(key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    root = TrustedRoot((), {log_id: LogKey(key.public_key(), Window(None, None), "")}, {}, "test")
    return key, log_id, root


def _entry(key, log_id, leaves, index, tamper_path=False, size=None):
    from cryptography.hazmat.primitives import hashes

    size = size or len(leaves)
    root_hash = _mth(leaves[:size])
    path = _path(index, leaves[:size])
    if tamper_path and path:
        path[0] = bytes(32)
    note = f"test-log - 1\n{size}\n{base64.b64encode(root_hash).decode()}\n"
    signature = key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
    checkpoint = note + f"\n\u2014 test-log {base64.b64encode(log_id[:4] + signature).decode()}\n"
    proof = {"logIndex": str(index), "treeSize": str(size), "rootHash": base64.b64encode(root_hash).decode(),
             "hashes": [base64.b64encode(h).decode() for h in path], "checkpoint": {"envelope": checkpoint}}
    return LogEntry(leaves[index], 0, index, log_id, b"", proof)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13])
def test_inclusion_proofs_for_every_leaf_of_trees_of_many_shapes(log, size):
    key, log_id, root = log
    leaves = [f"entry {n}".encode() for n in range(size)]
    for index in range(size):
        check_inclusion(_entry(key, log_id, leaves, index), root)
        if size > 1:
            with pytest.raises(CheckFailed, match="^inclusion proof: "):
                check_inclusion(_entry(key, log_id, leaves, index, tamper_path=True), root)


def test_a_checkpoint_must_be_signed_by_the_log_and_name_the_root(log):
    key, log_id, root = log
    leaves = [b"a", b"b", b"c"]
    entry = _entry(key, log_id, leaves, 1)
    other = ec.generate_private_key(ec.SECP256R1())
    forged = _entry(other, log_id, leaves, 1)
    with pytest.raises(CheckFailed, match="^checkpoint: no signature"):
        check_inclusion(forged, root)
    envelope = entry.proof["checkpoint"]["envelope"].replace("\n3\n", "\n4\n", 1)
    with pytest.raises(CheckFailed, match="^checkpoint: "):
        check_inclusion(LogEntry(entry.body, 0, 1, log_id, b"", {**entry.proof, "checkpoint": {"envelope": envelope}}),
                        root)


def test_policies_from_config_and_flags():
    failures = []

    def fail(key, problem):
        failures.append(problem)
        raise UsageError(problem)

    chainguard = policy_from({"preset": "chainguard"}, fail, str)
    assert chainguard.identity_regexp == PRESETS["chainguard"]["certificateIdentityRegexp"] and chainguard.keyless
    assert policy_from({"key": "base.pub"}, fail, lambda p: "/abs/" + p).key == "/abs/base.pub"
    for table, needle in (({"key": "k", "certificateIdentity": "x"}, "not both"),
                          ({"certificateIdentity": "x"}, "certificateOidcIssuer"),
                          ({"certificateIdentity": "x", "certificateIdentityRegexp": "y", "certificateOidcIssuer": "i"},
                           "exactly one of certificateIdentity"),
                          ({"certificateIdentityRegexp": "(", "certificateOidcIssuer": "i"},
                           "not a regular expression"),
                          ({"preset": "nobody"}, "unknown preset"), ({"colour": "red"}, "unknown key")):
        with pytest.raises(UsageError, match=needle):
            policy_from(table, fail, str)
    assert from_flags({"key": "", "certificateIdentity": ""}) is None
    assert from_flags({"preset": "chainguard"}) == chainguard
    assert BasePolicy(key="k").describe() == "signed with k"


def test_the_chainguard_preset_matches_chainguards_identities():
    import re

    pattern = PRESETS["chainguard"]["certificateIdentityRegexp"]
    for identity in ("https://github.com/chainguard-images/static/.github/workflows/release.yaml@refs/heads/main",
                     "https://github.com/chainguard-images/images/.github/workflows/release.yaml@refs/heads/main"):
        assert re.fullmatch(pattern, identity)
    assert not re.fullmatch(pattern, "https://github.com/evil/images/.github/workflows/release.yaml@refs/heads/main")
