"""Keyless signatures in cosign's legacy `.sig` layout, and bare Rekor records (what Chainguard
publishes), checked by pyko itself: sigstore-python cannot read them, because their Rekor bundle
(`dev.sigstore.cosign/bundle`) holds a SET but no inclusion proof, which its models require.

The rules are sigstore-go's (cosign v3's own verifier for this layout): the SET is required,
since only it makes the integrated time a verified time; the certificate must chain to a Fulcio
CA whose window holds that time, be valid at it, carry an SCT from a CT log whose window holds
the SCT's time, and match the identity; the log entry must log exactly this certificate,
signature and payload; the payload must name the image's digest.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Sequence, Tuple

from cryptography import x509

from ...errors import MalformedInput
from .. import strict_json
from .checks import LogEntry, b64, check_chain, check_sct, check_set, check_validity, verify_ecdsa
from .identity import CheckFailed, Identity
from .trustroot import TrustedRoot

CERTIFICATE = "dev.sigstore.cosign/certificate"
CHAIN = "dev.sigstore.cosign/chain"
BUNDLE = "dev.sigstore.cosign/bundle"
SIGNATURE = "dev.cosignproject.cosign/signature"
MAX_BUNDLE_TEXT = 1 << 20
#: What a legacy signature that passes was checked for, in the words of the success line.
LEGACY_CHECKS = ("SET (the integrated time)", "certificate chain and validity at that time", "SCT",
                 "identity and issuer", "log entry", "signature", "digest claim")


@dataclass(frozen=True)
class KeylessPolicy:
    identity: Identity
    root: TrustedRoot


def pem_certs(text: str, what: str) -> List[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(text.encode()) if text.strip() else []
    except ValueError:
        raise CheckFailed(what, "not a PEM certificate") from None


def _rekor_entry(bundle: Mapping[str, Any], where: str) -> LogEntry:
    """The log entry of cosign's `dev.sigstore.cosign/bundle` annotation (Rekor v1's answer)."""
    try:
        payload = bundle["Payload"]
        return LogEntry(b64(payload["body"], "log entry"), int(payload["integratedTime"]), int(payload["logIndex"]),
                        bytes.fromhex(payload["logID"]), b64(bundle["SignedEntryTimestamp"], "SET"))
    except (KeyError, TypeError, ValueError):
        raise CheckFailed("SET", f"{where} has no usable Rekor bundle (SignedEntryTimestamp and entry), so "
                                 "nothing proves when it was signed") from None


def _hashedrekord(entry: LogEntry) -> Tuple[x509.Certificate, bytes, bytes]:
    """(certificate, signature, logged SHA-256) of a hashedrekord 0.0.1 entry."""
    body = entry.json()
    if body.get("kind") != "hashedrekord" or body.get("apiVersion") != "0.0.1":
        raise CheckFailed("log entry", f"a {str(body.get('kind'))[:30]} entry, not hashedrekord 0.0.1")
    try:
        spec = body["spec"]
        hashed = spec["data"]["hash"]
        if hashed["algorithm"] != "sha256":
            raise CheckFailed("log entry", "the logged hash is not SHA-256")
        certs = pem_certs(b64(spec["signature"]["publicKey"]["content"], "log entry").decode(), "log entry")
        return certs[0], b64(spec["signature"]["content"], "log entry"), bytes.fromhex(hashed["value"])
    except (KeyError, TypeError, ValueError, IndexError):
        raise CheckFailed("log entry", "a malformed hashedrekord entry") from None


def _check_certificate(cert: x509.Certificate, entry: LogEntry, policy: KeylessPolicy,
                       extra: Sequence[x509.Certificate] = ()) -> None:
    chain = check_chain(cert, policy.root, entry.when, extra)
    check_validity(cert, entry.when)
    check_sct(cert, chain[0], policy.root)
    policy.identity.check(cert)


def verify_rekor_bundle(bundle: Mapping[str, Any], policy: KeylessPolicy, where: str = "the signature") -> LogEntry:
    """A Rekor hashedrekord bundle on its own: its SET, the certificate it logs, and the logged
    signature over the logged hash."""
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
    certs = pem_certs(annotations.get(CERTIFICATE, ""), "certificate")
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
    _check_certificate(certs[0], entry, policy, pem_certs(annotations.get(CHAIN, ""), "certificate chain"))
    if not verify_ecdsa(certs[0].public_key(), signature, payload):
        raise CheckFailed("signature", f"{where}: the signature does not verify over the payload")
    check_claim(payload, digest, where)
    return payload


def check_claim(payload: bytes, digest: str, where: str) -> None:
    """The simple-signing payload names `digest` (read as cosign reads it: no case-twin keys)."""
    try:
        claimed = strict_json.loads(payload, f"{where}: the payload")["critical"]["image"]["docker-manifest-digest"]
    except MalformedInput as err:
        raise CheckFailed("digest claim", str(err)) from None
    except (KeyError, TypeError):
        raise CheckFailed("digest claim", f"{where}: the payload is not a cosign simple-signing payload") from None
    if claimed != digest:
        raise CheckFailed("digest claim", f"{where}: the payload signs {str(claimed)[:80]}, not {digest}")
