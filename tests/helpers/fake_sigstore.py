"""A private Sigstore for the keyless tests (test helper, not product code): a CA standing in
for Fulcio, a log key standing in for Rekor, a CT log key, and a trusted-root file naming them.

It issues short-lived certificates with Fulcio's extensions (the OIDC issuer, as
1.3.6.1.4.1.57264.1.1 raw and .1.8 DER) and an embedded SCT, and writes keyless
signatures the two ways cosign does: the legacy `.sig` layer with certificate,
chain and Rekor bundle (SET) annotations, and a v0.3 Sigstore bundle referrer
with a dsse log entry, its SET, and an inclusion proof with a signed checkpoint.
Real cosign v3 (`cosign verify --trusted-root …`) must accept what it writes, so
the test vectors are known to be right.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
POISON = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")
UTC = datetime.timezone.utc
ECDSA = ec.ECDSA(hashes.SHA256())
#: The identity and issuer the tests sign as (a GitHub Actions workflow, as Chainguard's are).
IDENTITY = "https://github.com/acme/base/.github/workflows/release.yaml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"


def _der_spki(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _utf8_der(text: str) -> bytes:
    data = text.encode()
    return bytes([0x0C]) + _der_length(len(data)) + data


def _canonical(obj) -> bytes:
    """RFC 8785 for the simple values used here: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class FakeSigstore:
    now: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self):
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.intermediate_key = ec.generate_private_key(ec.SECP384R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        start = self.now - datetime.timedelta(days=1)
        self.root = self._ca("pyko-test-fulcio-root", self.root_key, None, start)
        self.intermediate = self._ca("pyko-test-fulcio-intermediate", self.intermediate_key, self.root, start)
        self.log_index = 0

    # --- the CA -------------------------------------------------------------------------
    def _ca(self, name: str, key, parent: Optional[x509.Certificate], start) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pyko tests"),
                             x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (x509.CertificateBuilder().subject_name(subject)
                   .issuer_name(parent.subject if parent else subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start)
                   .not_valid_after(start + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))
        if parent is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root_key.public_key()), False)
        return builder.sign(self.root_key if parent else key, hashes.SHA384())

    def issue(self, identity: str, issuer: str, signer_key, not_before: Optional[datetime.datetime] = None,
              minutes: int = 10, ca_key=None, ca_cert=None, sct_key=None, extensions=()) -> x509.Certificate:
        """A Fulcio-like leaf for `signer_key` with an embedded SCT (signed by `sct_key`, the CT log's);
        `extensions` are more (OID, DER value) pairs, as Fulcio adds for a CI's token claims."""
        ca_key, ca_cert = ca_key or self.intermediate_key, ca_cert or self.intermediate
        start = not_before or (self.now - datetime.timedelta(minutes=1))
        base = (x509.CertificateBuilder()
                .subject_name(x509.Name([])).issuer_name(ca_cert.subject).public_key(signer_key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(start)
                .not_valid_after(start + datetime.timedelta(minutes=minutes))
                .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
                .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), True)
                .add_extension(x509.UnrecognizedExtension(ISSUER_V1, issuer.encode()), False)
                .add_extension(x509.UnrecognizedExtension(ISSUER_V2, _utf8_der(issuer)), False))
        for oid, value in extensions:
            base = base.add_extension(x509.UnrecognizedExtension(oid, value), False)
        # The SCT signs the certificate without its SCT list: issue once with a placeholder, sign
        # that TBS (RFC 6962's precertificate entry), then issue again with the real list.
        placeholder = base.add_extension(x509.UnrecognizedExtension(SCT_LIST, self._sct_list(b"\0" * 64, 0)), False)
        draft = placeholder.sign(ca_key, hashes.SHA256())
        timestamp = int((start + datetime.timedelta(seconds=5)).timestamp() * 1000)
        issuer_key_hash = hashlib.sha256(_der_spki(ca_key.public_key())).digest()
        signed = (b"\x00\x00" + struct.pack(">Q", timestamp) + b"\x00\x01" + issuer_key_hash
                  + struct.pack(">I", len(draft.tbs_precertificate_bytes))[1:] + draft.tbs_precertificate_bytes
                  + b"\x00\x00")
        signature = (sct_key or self.ct_key).sign(signed, ECDSA)
        final = base.add_extension(x509.UnrecognizedExtension(SCT_LIST, self._sct_list(signature, timestamp)), False)
        return final.sign(ca_key, hashes.SHA256())

    def _sct_list(self, signature: bytes, timestamp: int) -> bytes:
        log_id = hashlib.sha256(_der_spki(self.ct_key.public_key())).digest()
        sct = (b"\x00" + log_id + struct.pack(">Q", timestamp) + b"\x00\x00"
               + b"\x04\x03" + struct.pack(">H", len(signature)) + signature)   # SHA256 + ECDSA
        items = struct.pack(">H", len(sct)) + sct
        inner = struct.pack(">H", len(items)) + items
        return bytes([0x04]) + _der_length(len(inner)) + inner   # an OCTET STRING holding the TLS list

    # --- the log ------------------------------------------------------------------------
    @property
    def rekor_log_id(self) -> bytes:
        return hashlib.sha256(_der_spki(self.rekor_key.public_key())).digest()

    def log(self, body: dict, integrated: Optional[int] = None, rekor_key=None) -> dict:
        """Log `body`: its canonical bytes, index, time and SET (Rekor v1's inclusion promise)."""
        canonical = _canonical(body)
        entry = {"body": base64.b64encode(canonical).decode(),
                 "integratedTime": integrated if integrated is not None else int(self.now.timestamp()),
                 "logID": self.rekor_log_id.hex(), "logIndex": self.log_index}
        self.log_index += 1
        entry["SET"] = base64.b64encode((rekor_key or self.rekor_key).sign(_canonical(entry), ECDSA)).decode()
        entry["canonical"] = canonical
        return entry

    def checkpoint(self, root_hash: bytes, size: int) -> str:
        # Rekor's form: origin "<name> - <tree ID>", the signature line names <name> alone.
        note = f"pyko-test-rekor - 1\n{size}\n{base64.b64encode(root_hash).decode()}\n"
        signature = self.rekor_key.sign(note.encode(), ECDSA)
        hint = self.rekor_log_id[:4]
        return note + f"\n\u2014 pyko-test-rekor {base64.b64encode(hint + signature).decode()}\n"

    # --- the trusted root ----------------------------------------------------------------
    def trusted_root(self, ca_end: str = "", tlog_end: str = "", ct_end: str = "") -> dict:
        """The root naming this Sigstore's CA, log and CT log; an `*_end` (RFC 3339) ends that window."""
        start = (self.now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def window(end: str) -> dict:
            return {"start": start, **({"end": end} if end else {})}

        def key(k, log_id: bytes, url: str, end: str) -> dict:
            return {"baseUrl": url, "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": base64.b64encode(_der_spki(k.public_key())).decode(),
                                  "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": window(end)},
                    "logId": {"keyId": base64.b64encode(log_id).decode()}}

        der = lambda c: {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()}  # noqa
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [key(self.rekor_key, self.rekor_log_id, "https://rekor.pyko.test", tlog_end)],
            "certificateAuthorities": [{
                "subject": {"organization": "pyko tests", "commonName": "pyko-test-fulcio"},
                "uri": "https://fulcio.pyko.test",
                "certChain": {"certificates": [der(self.intermediate), der(self.root)]},
                "validFor": window(ca_end)}],
            "ctlogs": [key(self.ct_key, hashlib.sha256(_der_spki(self.ct_key.public_key())).digest(),
                           "https://ctfe.pyko.test", ct_end)],
            "timestampAuthorities": [],
        }

    def stamp(self, delta: datetime.timedelta) -> str:
        return (self.now + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _der_length(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


# --- keyless signatures, both layouts ---------------------------------------------------------
@dataclass
class Signed:
    cert: x509.Certificate
    key: object


def legacy_layer(sigstore: FakeSigstore, signed: Signed, payload: bytes, integrated: Optional[int] = None,
                 rekor_key=None) -> Tuple[bytes, dict]:
    """(payload, layer annotations) of a keyless `.sig` layer, as `cosign sign` writes it with Rekor."""
    signature = signed.key.sign(payload, ECDSA)
    body = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}},
        "signature": {"content": base64.b64encode(signature).decode(),
                      "publicKey": {"content": base64.b64encode(_pem(signed.cert)).decode()}}}}
    entry = sigstore.log(body, integrated, rekor_key)
    bundle = {"SignedEntryTimestamp": entry["SET"],
              "Payload": {"body": entry["body"], "integratedTime": entry["integratedTime"],
                          "logIndex": entry["logIndex"], "logID": entry["logID"]}}
    return payload, {
        "dev.cosignproject.cosign/signature": base64.b64encode(signature).decode(),
        "dev.sigstore.cosign/certificate": _pem(signed.cert).decode(),
        "dev.sigstore.cosign/chain": (_pem(sigstore.intermediate) + _pem(sigstore.root)).decode(),
        "dev.sigstore.cosign/bundle": json.dumps(bundle, separators=(",", ":")),
    }


def dsse_bundle(sigstore: FakeSigstore, signed: Signed, statement: bytes, integrated: Optional[int] = None,
                with_set: bool = True, with_proof: bool = True, proof_of_another_tree: bool = False,
                with_checkpoint: bool = True) -> bytes:
    """A v0.3 Sigstore bundle of a DSSE statement, logged as dsse 0.0.1 with (unless told otherwise)
    its SET and an inclusion proof with a signed checkpoint."""
    payload_type = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(statement), statement)
    signature = signed.key.sign(pae, ECDSA)
    envelope = {"payload": base64.b64encode(statement).decode(), "payloadType": payload_type,
                "signatures": [{"sig": base64.b64encode(signature).decode()}]}
    body = {"apiVersion": "0.0.1", "kind": "dsse", "spec": {
        "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(_canonical(envelope)).hexdigest()},
        "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(statement).hexdigest()},
        "signatures": [{"signature": base64.b64encode(signature).decode(),
                        "verifier": base64.b64encode(_pem(signed.cert)).decode()}]}}
    entry = sigstore.log(body, integrated)
    leaf = hashlib.sha256(b"\x00" + entry["canonical"]).digest()   # a tree of one: the root is the leaf
    if proof_of_another_tree:
        leaf = hashlib.sha256(b"\x00" + b"another entry").digest()
    tlog = {"logIndex": str(entry["logIndex"]), "logId": {"keyId": base64.b64encode(sigstore.rekor_log_id).decode()},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"}, "integratedTime": str(entry["integratedTime"]),
            "canonicalizedBody": entry["body"]}
    if with_set:
        tlog["inclusionPromise"] = {"signedEntryTimestamp": entry["SET"]}
    if with_proof:
        proof = {"logIndex": "0", "rootHash": base64.b64encode(leaf).decode(), "treeSize": "1", "hashes": []}
        if with_checkpoint:
            proof["checkpoint"] = {"envelope": sigstore.checkpoint(leaf, 1)}
        tlog["inclusionProof"] = proof
    bundle = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
              "verificationMaterial": {"certificate": {"rawBytes": base64.b64encode(
                  signed.cert.public_bytes(serialization.Encoding.DER)).decode()}, "tlogEntries": [tlog]},
              "dsseEnvelope": envelope}
    return json.dumps(bundle, separators=(",", ":")).encode()


def new_signer(sigstore: FakeSigstore, identity: str, issuer: str, **kwargs) -> Signed:
    key = ec.generate_private_key(ec.SECP256R1())
    return Signed(sigstore.issue(identity, issuer, key, **kwargs), key)


def statement_for(name: str, digest: str) -> bytes:
    return json.dumps({"_type": "https://in-toto.io/Statement/v1",
                       "subject": [{"name": name, "digest": dict([digest.split(":", 1)])}],
                       "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}},
                      separators=(",", ":")).encode()
