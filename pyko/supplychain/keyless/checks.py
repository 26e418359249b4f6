"""The checks pyko makes itself, each failing with its own name: those of cosign's legacy `.sig`
layout (which sigstore-python cannot read: its Rekor bundle has a SET but no inclusion proof),
and the validity windows sigstore-go applies on top of sigstore-python's bundle checks.

Each follows sigstore-go's rule (cosign's own verifier), and the crypto is `cryptography`'s:
- certificate chain: to a Fulcio CA of the trusted root whose validity window holds the
  verified time (cryptography's X.509 path validation, code-signing EKU allowed);
- certificate validity: the verified time lies inside the leaf's validity (10 minutes);
- SCT: an embedded signed certificate timestamp verifies with the key of a CT log of the
  trusted root whose window holds the SCT's time (RFC 6962's precertificate entry);
- SET: the Rekor SignedEntryTimestamp verifies, with the key of a log whose window holds
  the integrated time, over the canonical JSON of the entry (body, integratedTime, logID,
  logIndex). Only a verified SET makes the integrated time a time to check against.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import List, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID

from ...errors import clean_text
from ...util.jsontypes import JsonObject
from .identity import CheckFailed
from .trustroot import TrustedRoot

UTC = datetime.timezone.utc


def verify_ecdsa(key: object, signature: bytes, data: bytes, prehashed: bool = False) -> bool:
    """ECDSA P-256/SHA-256 (or, `prehashed`, over a given SHA-256 digest); any other key verifies nothing."""
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    algorithm = ec.ECDSA(Prehashed(hashes.SHA256()) if prehashed else hashes.SHA256())
    try:
        key.verify(signature, data, algorithm)
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        return False
    return True


# --- the certificate --------------------------------------------------------------------------
def check_chain(cert: x509.Certificate, root: TrustedRoot, when: datetime.datetime,
                extra: Sequence[x509.Certificate] = ()) -> List[x509.Certificate]:
    """The chain from `cert` to a trusted Fulcio CA valid at `when`; the issuer first."""
    from cryptography.x509.verification import (
        Criticality,
        ExtensionPolicy,
        PolicyBuilder,
        Store,
    )
    from cryptography.x509.verification import (
        VerificationError as PathError,
    )

    authorities = [a for a in root.authorities if a.window.holds(when)]
    if not authorities:
        raise CheckFailed("certificate chain", f"no Fulcio CA of the trusted root was valid at {_stamp(when)}")
    anchors = [a.chain[-1] for a in authorities]
    intermediates = [c for a in authorities for c in a.chain[:-1]] + list(extra)
    # Fulcio certificates are for code signing, not TLS clients: allow that EKU, keep the other rules.
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(x509.ExtendedKeyUsage, Criticality.NON_CRITICAL,
                                                                    None)
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(x509.ExtendedKeyUsage, Criticality.NON_CRITICAL,
                                                                    None)
    verifier = (PolicyBuilder().store(Store(anchors)).time(when)
                .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy).build_client_verifier())
    try:
        chain = verifier.verify(cert, intermediates).chain[1:]
    except (PathError, ValueError, x509.UnsupportedGeneralNameType) as err:
        raise CheckFailed("certificate chain", f"the certificate does not chain to a trusted Fulcio CA at "
                                               f"{_stamp(when)} ({clean_text(err, 160)})") from None
    try:
        usage = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usage = []
    if ExtendedKeyUsageOID.CODE_SIGNING not in usage:
        raise CheckFailed("certificate chain", "the certificate is not for code signing")
    return chain


def _stamp(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_validity(cert: x509.Certificate, when: datetime.datetime) -> None:
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        raise CheckFailed("certificate validity",
                          f"the certificate was valid from {_stamp(cert.not_valid_before_utc)} to "
                          f"{_stamp(cert.not_valid_after_utc)}, not at the log's integrated time {_stamp(when)}")


def check_sct(cert: x509.Certificate, issuer: x509.Certificate, root: TrustedRoot) -> None:
    """At least one embedded SCT verifies with a CT log key of the trusted root."""
    try:
        scts = cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    except x509.ExtensionNotFound:
        raise CheckFailed("SCT", "the certificate has no embedded signed certificate timestamp") from None
    issuer_key_hash = hashlib.sha256(issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    tbs = cert.tbs_precertificate_bytes
    for sct in scts:
        log = root.ctlogs.get(sct.log_id)
        if log is None or not log.window.holds(sct.timestamp.replace(tzinfo=UTC)):
            continue  # sigstore-go: a CT log key counts only inside its validity window
        millis = int(sct.timestamp.replace(tzinfo=UTC).timestamp() * 1000)
        signed = (b"\x00\x00" + struct.pack(">Q", millis) + b"\x00\x01" + issuer_key_hash
                  + struct.pack(">I", len(tbs))[1:] + tbs + struct.pack(">H", len(sct.extension_bytes))
                  + sct.extension_bytes)
        if verify_ecdsa(log.key, sct.signature, signed):
            return
    raise CheckFailed("SCT", "no embedded SCT verifies with a CT log key of the trusted root that was valid at "
                             "the SCT's time")


# --- the log entry ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    body: bytes                     # the canonicalized entry, decoded
    integrated_time: int
    log_index: int
    log_id: bytes
    set: bytes                      # the SignedEntryTimestamp; b"" when absent

    @property
    def when(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.integrated_time, UTC)

    def json(self) -> JsonObject:
        try:
            doc = json.loads(self.body)
        except (ValueError, RecursionError):
            raise CheckFailed("log entry", "the logged body is not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
            raise CheckFailed("log entry", "the logged body is not a Rekor entry")
        return doc


def check_set(entry: LogEntry, root: TrustedRoot) -> None:
    log = root.tlogs.get(entry.log_id)
    if log is None:
        raise CheckFailed("SET", f"the entry is from log {entry.log_id.hex()[:16]}…, not one the trusted root names")
    if not log.window.holds(entry.when):
        raise CheckFailed("SET", "the log's key was not valid at the entry's integrated time")
    canonical = json.dumps({"body": base64.b64encode(entry.body).decode(), "integratedTime": entry.integrated_time,
                            "logID": entry.log_id.hex(), "logIndex": entry.log_index},
                           sort_keys=True, separators=(",", ":")).encode()
    if not entry.set or not verify_ecdsa(log.key, entry.set, canonical):
        raise CheckFailed("SET", "the SignedEntryTimestamp does not verify with the log's key")


def b64(value: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (ValueError, binascii.Error):
        raise CheckFailed(what, "not base64") from None
