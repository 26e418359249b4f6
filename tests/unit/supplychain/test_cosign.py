"""Signing primitives: cosign's payload bytes, its key file format, signature encodings."""
import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from pyko.errors import PykoError
from pyko.supplychain import cosign as sign

pytest.importorskip("nacl", reason="PyNaCl (pip install 'pyko-images[cosign]')")


def test_payload_is_cosigns_exact_shape():
    digest = "sha256:" + "ab" * 32
    assert sign.payload("reg.io/team/app", digest) == (
        b'{"critical":{"identity":{"docker-reference":"reg.io/team/app"},"image":{"docker-manifest-digest":"'
        + digest.encode() + b'"},"type":"cosign container image signature"},"optional":null}')
    with_annotations = json.loads(sign.payload("r/a", digest, {"env": "prod"}))
    assert with_annotations["optional"] == {"env": "prod"}


def test_cosign_key_round_trip_and_wrong_password(tmp_path):
    private_pem, public_pem = sign.generate_key_pair(b"correct horse")
    assert private_pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    body = b"".join(private_pem.splitlines()[1:-1])
    doc = json.loads(base64.b64decode(body))
    assert doc["kdf"]["params"] == {"N": 65536, "r": 8, "p": 1}
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 32 and len(base64.b64decode(doc["cipher"]["nonce"])) == 24
    key = sign.decrypt_cosign_key(private_pem, b"correct horse")
    signature = sign.sign(key, b"data")
    path = tmp_path / "cosign.pub"
    path.write_bytes(public_pem)
    assert sign.verify(sign.load_public_key(str(path)), b"data", signature)
    assert not sign.verify(sign.load_public_key(str(path)), b"other data", signature)
    with pytest.raises(PykoError, match="wrong password"):
        sign.decrypt_cosign_key(private_pem, b"wrong")


def test_load_private_key_reads_password_from_env(tmp_path):
    private_pem, public_pem = sign.generate_key_pair(b"")
    path = tmp_path / "cosign.key"
    path.write_bytes(private_pem)
    public = tmp_path / "cosign.pub"
    public.write_bytes(public_pem)
    key = sign.load_private_key(str(path), {"COSIGN_PASSWORD": ""})   # an empty password is valid
    assert sign.verify(sign.load_public_key(str(public)), b"payload", sign.sign(key, b"payload"))


def test_raw_r_s_signatures_verify_too():
    key = ec.generate_private_key(ec.SECP256R1())
    r, s = decode_dss_signature(key.sign(b"payload", ec.ECDSA(hashes.SHA256())))
    raw = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    assert sign.verify(key.public_key(), b"payload", raw)


def test_signatures_append_and_deduplicate():
    layers = sign.add_signature([], b"p1", "c2lnMQ==")
    layers = sign.add_signature(layers, b"p1", "c2lnMQ==")
    layers = sign.add_signature(layers, b"p2", "c2lnMg==")
    assert [layer.data for layer in layers] == [b"p1", b"p2"]
    manifest, blobs = sign.artifact_manifest(layers)
    doc = json.loads(manifest.data)
    assert [layer["mediaType"] for layer in doc["layers"]] == [sign.SIMPLESIGNING] * 2
    assert doc["layers"][1]["annotations"] == {sign.SIGNATURE_ANNOTATION: "c2lnMg=="}
    assert sign.tag_for("sha256:" + "0" * 64, "sig") == "sha256-" + "0" * 64 + ".sig"
