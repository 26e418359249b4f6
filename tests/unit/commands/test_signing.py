"""commands/signing.py: `pyko sign` and `pyko attest` on an image already stored."""
import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.commands.signing import Located, attest_stored, read_predicate, sign_stored
from pyko.errors import UsageError
from pyko.image import mediatypes
from pyko.supplychain import attestations
from pyko.supplychain.sign import Signing
from pyko.supplychain.signers import KeySigner

from memory_store import MemoryStore

IMAGE = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                    "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": "sha256:" + "ab" * 32, "size": 2},
                    "layers": []}).encode()


def _stored():
    store = MemoryStore()
    store.tags["v1"] = IMAGE
    return Located(store, "v1", "reg.io/app")


def test_sign_stored_signs_the_digest_the_tag_names():
    where, key = _stored(), ec.generate_private_key(ec.SECP256R1())
    digest, stored = sign_stored(where, Signing(KeySigner(key)))
    assert digest == where.store.resolve("v1")[0]
    assert [item.tag for item in stored] == [f"sha256-{digest.split(':')[1]}.sig"]


@pytest.mark.parametrize("form", ["legacy", "bundle"])
def test_attest_stored_writes_a_statement_the_key_verifies(form):
    where, key = _stored(), ec.generate_private_key(ec.SECP256R1())
    digest, stored = attest_stored(where, Signing(KeySigner(key), form=form), attestations.SLSA_V1,
                                   {"buildDefinition": {}})
    assert len(stored) == 1
    statements = attestations.verify_attestations(where.store, digest, key.public_key(), attestations.SLSA_V1,
                                                   "reg.io/app:v1")
    assert statements[0].predicate == {"buildDefinition": {}} and statements[0].names_digest(digest)


def test_a_predicate_must_be_one_json_object(tmp_path):
    path = tmp_path / "predicate.json"
    path.write_text("[1, 2]")
    with pytest.raises(UsageError, match="must hold a JSON object"):
        read_predicate(str(path))
    path.write_text("{not json")
    with pytest.raises(UsageError, match="is not JSON"):
        read_predicate(str(path))
    path.write_text('{"a": 1}')
    assert read_predicate(str(path)) == {"a": 1}


def test_verify_takes_a_key_or_a_keyless_identity_never_both_nor_neither(tmp_path):
    from cryptography.hazmat.primitives import serialization

    from pyko.commands.signing import verifier_from_flags
    from pyko.supplychain.verify import KeyVerifier

    pub = tmp_path / "cosign.pub"
    pub.write_bytes(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert isinstance(verifier_from_flags(str(pub), "", "", "", "", "", True, str(tmp_path)), KeyVerifier)
    for key, identity in ((str(pub), "me@example.com"), ("", "")):
        with pytest.raises(UsageError, match="give --key, or --certificate-identity"):
            verifier_from_flags(key, identity, "", "", "", "", True, str(tmp_path))


def test_a_keyless_policy_problem_is_said_with_the_flags_names(tmp_path):
    from pyko.commands.signing import verifier_from_flags

    with pytest.raises(UsageError, match="--certificate-oidc-issuer") as refused:
        verifier_from_flags("", "me@example.com", "", "", "", "", True, str(tmp_path))
    assert "certificateOidcIssuer" not in str(refused.value)


def test_a_key_pair_is_written_once_as_cosign_writes_it(tmp_path):
    import stat

    from pyko.commands.signing import write_key_pair
    from pyko.supplychain import cosign

    key, pub = write_key_pair(str(tmp_path / "ci"), {"COSIGN_PASSWORD": "pw"})
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    signature = cosign.sign(cosign.load_private_key(key, {"COSIGN_PASSWORD": "pw"}), b"payload")
    assert cosign.verify(cosign.load_public_key(pub), b"payload", signature)
    before = open(key, "rb").read()
    with pytest.raises(UsageError, match="ci.key already exists"):
        write_key_pair(str(tmp_path / "ci"), {"COSIGN_PASSWORD": "pw"})
    assert open(key, "rb").read() == before   # never overwritten
