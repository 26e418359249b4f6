"""Keyless (Sigstore: Fulcio certificate + Rekor log) verification of cosign signatures, offline.

Both places cosign keeps them: a legacy `sha256-<hex>.sig` layer (the certificate,
its chain and the Rekor bundle, the SET, as layer annotations) and a Sigstore
bundle referrer (cosign v3's: the certificate, a log entry with its SET and
inclusion proof, a DSSE envelope). Every check is in checks.py and names itself
when it fails; nothing here goes to the network.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import List, Mapping, Sequence

from cryptography import x509

from ...errors import MalformedInput
from .. import dsse
from .checks import (
    CheckFailed,
    Identity,
    LogEntry,
    b64,
    check_chain,
    check_inclusion,
    check_sct,
    check_set,
    check_validity,
    verify_ecdsa,
)
from .trustroot import TrustedRoot, load_trusted_root

__all__ = ["CheckFailed", "Identity", "KeylessPolicy", "TrustedRoot", "load_trusted_root", "verify_legacy",
           "verify_bundle", "verify_rekor_bundle"]

CERTIFICATE = "dev.sigstore.cosign/certificate"
CHAIN = "dev.sigstore.cosign/chain"
BUNDLE = "dev.sigstore.cosign/bundle"
SIGNATURE = "dev.cosignproject.cosign/signature"
MAX_BUNDLE_TEXT = 1 << 20


@dataclass(frozen=True)
class KeylessPolicy:
    identity: Identity
    root: TrustedRoot


def _pem_certs(text: str, what: str) -> List[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(text.encode()) if text.strip() else []
    except ValueError:
        raise CheckFailed(what, "not a PEM certificate") from None


def _rekor_entry(bundle: Mapping, where: str) -> LogEntry:
    """The log entry of cosign's `dev.sigstore.cosign/bundle` annotation (Rekor v1's answer)."""
    try:
        payload = bundle["Payload"]
        return LogEntry(b64(payload["body"], "log entry"), int(payload["integratedTime"]), int(payload["logIndex"]),
                        bytes.fromhex(payload["logID"]), b64(bundle["SignedEntryTimestamp"], "SET"))
    except (KeyError, TypeError, ValueError):
        raise CheckFailed("log entry", f"{where} has no usable Rekor bundle") from None


def _hashedrekord(entry: LogEntry):
    """(certificate, signature, logged SHA-256) of a hashedrekord 0.0.1 entry."""
    body = entry.json()
    if body.get("kind") != "hashedrekord":
        raise CheckFailed("log entry", f"a {str(body.get('kind'))[:30]} entry, not hashedrekord")
    try:
        spec = body["spec"]
        hashed = spec["data"]["hash"]
        if hashed["algorithm"] != "sha256":
            raise CheckFailed("log entry", "the logged hash is not SHA-256")
        certs = _pem_certs(b64(spec["signature"]["publicKey"]["content"], "log entry").decode(), "log entry")
        return certs[0], b64(spec["signature"]["content"], "log entry"), bytes.fromhex(hashed["value"])
    except (KeyError, TypeError, ValueError, IndexError):
        raise CheckFailed("log entry", "a malformed hashedrekord entry") from None


def _check_certificate(cert: x509.Certificate, entry: LogEntry, policy: KeylessPolicy,
                       extra: Sequence[x509.Certificate] = ()) -> None:
    chain = check_chain(cert, policy.root, entry.when, extra)
    check_validity(cert, entry.when)
    check_sct(cert, chain[0], policy.root)
    policy.identity.check(cert)


def verify_rekor_bundle(bundle: Mapping, policy: KeylessPolicy, where: str = "the signature") -> LogEntry:
    """A Rekor hashedrekord bundle on its own (what Chainguard publishes): its SET, the certificate
    it logs, and the logged signature over the logged hash."""
    entry = _rekor_entry(bundle, where)
    check_set(entry, policy.root)
    cert, signature, logged = _hashedrekord(entry)
    _check_certificate(cert, entry, policy)
    if not verify_ecdsa(cert.public_key(), signature, logged, prehashed=True):
        raise CheckFailed("signature", "the logged signature does not verify over the logged hash")
    return entry


def verify_legacy(payload: bytes, annotations: Mapping[str, str], digest: str, policy: KeylessPolicy,
                  where: str) -> bytes:
    """A keyless `.sig` layer: returns its payload when every check passes."""
    certs = _pem_certs(annotations.get(CERTIFICATE, ""), "certificate")
    if not certs:
        raise CheckFailed("certificate", f"{where} carries no certificate (a key signature: use --key)")
    text = annotations.get(BUNDLE, "")
    if not text or len(text) > MAX_BUNDLE_TEXT:
        raise CheckFailed("SET", f"{where} carries no Rekor bundle, so nothing proves when it was signed")
    try:
        bundle = json.loads(text)
    except (ValueError, RecursionError):
        raise CheckFailed("SET", f"{where}: its Rekor bundle is not JSON") from None
    entry = _rekor_entry(bundle, where)
    check_set(entry, policy.root)
    logged_cert, logged_signature, logged_hash = _hashedrekord(entry)
    signature = b64(annotations.get(SIGNATURE, ""), "signature")
    if logged_cert != certs[0] or logged_signature != signature or logged_hash != hashlib.sha256(payload).digest():
        raise CheckFailed("log entry", f"{where}: the log entry is for another certificate, signature or payload")
    _check_certificate(certs[0], entry, policy, _pem_certs(annotations.get(CHAIN, ""), "certificate chain"))
    if not verify_ecdsa(certs[0].public_key(), signature, payload):
        raise CheckFailed("signature", f"{where}: the signature does not verify over the payload")
    _check_claim(payload, digest, where)
    return payload


def _check_claim(payload: bytes, digest: str, where: str) -> None:
    try:
        claimed = json.loads(payload)["critical"]["image"]["docker-manifest-digest"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise CheckFailed("digest claim", f"{where}: the payload is not a cosign simple-signing payload") from None
    if claimed != digest:
        raise CheckFailed("digest claim", f"{where}: the payload signs {str(claimed)[:80]}, not {digest}")


def verify_bundle(data: bytes, digest: str, policy: KeylessPolicy, where: str) -> dsse.Statement:
    """A keyless Sigstore bundle (v0.1 to v0.3) holding a DSSE envelope about `digest`."""
    try:
        doc = json.loads(data)
        material = doc["verificationMaterial"]
        raw = (material.get("certificate") or {}).get("rawBytes") or \
            material["x509CertificateChain"]["certificates"][0]["rawBytes"]
        cert = x509.load_der_x509_certificate(base64.b64decode(raw))
        tlog = material["tlogEntries"][0]
        entry = LogEntry(b64(tlog["canonicalizedBody"], "log entry"), int(tlog["integratedTime"]),
                         int(tlog["logIndex"]), base64.b64decode(tlog["logId"]["keyId"]),
                         b64((tlog.get("inclusionPromise") or {}).get("signedEntryTimestamp", ""), "SET"),
                         tlog.get("inclusionProof"))
        envelope = doc["dsseEnvelope"]
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        raise CheckFailed("certificate", f"{where}: no keyless material (certificate and log entry)") from None
    if entry.set:
        check_set(entry, policy.root)
    if entry.proof:
        check_inclusion(entry, policy.root)
    if not (entry.set or entry.proof):
        raise CheckFailed("SET", f"{where}: neither a SET nor an inclusion proof shows it was logged")
    payload_type, body, signatures = dsse.parse_envelope(envelope, where)
    _check_dsse_entry(entry, body, signatures, cert, where)
    _check_certificate(cert, entry, policy)
    if not any(verify_ecdsa(cert.public_key(), b64(sig, "signature"), dsse.pae(payload_type, body))
               for sig in signatures):
        raise CheckFailed("signature", f"{where}: the envelope's signature does not verify with the certificate")
    try:
        statement = dsse.parse_statement(body, where)
    except MalformedInput as err:
        raise CheckFailed("digest claim", str(err)) from None
    if not statement.names_digest(digest):
        raise CheckFailed("digest claim", f"{where}: the statement is about another image, not {digest}")
    return statement


def _check_dsse_entry(entry: LogEntry, body: bytes, signatures, cert: x509.Certificate, where: str) -> None:
    """The dsse 0.0.1 log entry must log this payload and these signatures by this certificate."""
    logged = entry.json()
    try:
        spec = logged["spec"]
        payload_hash = spec["payloadHash"]["value"]
        logged_sigs = [(s["signature"], _pem_certs(b64(s["verifier"], "log entry").decode(), "log entry")[0])
                       for s in spec["signatures"]]
    except (KeyError, TypeError, IndexError):
        raise CheckFailed("log entry", f"{where}: not a dsse log entry") from None
    if logged.get("kind") != "dsse" or payload_hash != hashlib.sha256(body).hexdigest() or \
            sorted(s for s, _ in logged_sigs) != sorted(signatures) or any(c != cert for _, c in logged_sigs):
        raise CheckFailed("log entry", f"{where}: the log entry is for another payload, signature or certificate")
