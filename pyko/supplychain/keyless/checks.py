"""The checks of a keyless (Fulcio + Rekor) signature, each failing with its own name.

- certificate chain: to a Fulcio CA of the trusted root, valid at the log's
  integrated time (cryptography's X.509 path validation, code-signing EKU allowed);
- certificate validity: the integrated time lies inside the leaf's 10 minutes;
- SCT: an embedded signed certificate timestamp verifies with a CT log's key
  (RFC 6962's precertificate entry, rebuilt from the certificate);
- SET: the Rekor SignedEntryTimestamp verifies, with the log's key, over the
  canonical JSON of the entry (body, integratedTime, logID, logIndex);
- inclusion proof and checkpoint, when present: the entry's Merkle path leads
  to the root hash that the log's signed checkpoint names;
- identity and issuer: the SAN and the OIDC issuer extension match the policy.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
import struct
from dataclasses import dataclass
from typing import List, Optional, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from ...errors import VerificationError, clean_text
from .trustroot import TrustedRoot

ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
UTC = datetime.timezone.utc


class CheckFailed(VerificationError):
    """One named check failed."""

    def __init__(self, check: str, why: str):
        super().__init__(f"{check}: {why}")
        self.check = check


def verify_ecdsa(key, signature: bytes, data: bytes, prehashed: bool = False) -> bool:
    """ECDSA P-256/SHA-256 (or, `prehashed`, over a given SHA-256 digest)."""
    algorithm = ec.ECDSA(Prehashed(hashes.SHA256()) if prehashed else hashes.SHA256())
    try:
        key.verify(signature, data, algorithm)
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        return False
    return True


# --- identity ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Identity:
    """Who must have signed: cosign's --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]."""

    identity: str = ""
    identity_regexp: str = ""
    issuer: str = ""
    issuer_regexp: str = ""

    def check(self, cert: x509.Certificate) -> None:
        names = sans(cert)
        if not any(_matches(name, self.identity, self.identity_regexp) for name in names):
            raise CheckFailed("identity", f"the certificate is for {', '.join(clean_text(n, 120) for n in names)}, "
                                          f"not {self.identity or '/' + self.identity_regexp + '/'}")
        found = issuer_of(cert)
        if not _matches(found, self.issuer, self.issuer_regexp):
            raise CheckFailed("issuer", f"the OIDC issuer is {clean_text(found, 120) or 'not given'}, "
                                        f"not {self.issuer or '/' + self.issuer_regexp + '/'}")


def _matches(value: str, exact: str, pattern: str) -> bool:
    if exact:
        return value == exact
    return bool(re.fullmatch(pattern, value))


def sans(cert: x509.Certificate) -> List[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n.value) for n in names if isinstance(n, (x509.UniformResourceIdentifier, x509.RFC822Name))]


def issuer_of(cert: x509.Certificate) -> str:
    """The OIDC issuer: Fulcio's v2 extension (a DER UTF8String), else v1 (raw bytes)."""
    for oid, der in ((ISSUER_V2, True), (ISSUER_V1, False)):
        try:
            raw = cert.extensions.get_extension_for_oid(oid).value.value
        except x509.ExtensionNotFound:
            continue
        if der and len(raw) >= 2 and raw[0] == 0x0C:
            length, offset = raw[1], 2
            if length & 0x80:
                count = length & 0x7F
                length, offset = int.from_bytes(raw[2:2 + count], "big"), 2 + count
            return raw[offset:offset + length].decode("utf-8", "replace")
        if not der:
            return raw.decode("utf-8", "replace")
    return ""


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
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
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
        if log is None:
            continue
        millis = int(sct.timestamp.replace(tzinfo=UTC).timestamp() * 1000)
        signed = (b"\x00\x00" + struct.pack(">Q", millis) + b"\x00\x01" + issuer_key_hash
                  + struct.pack(">I", len(tbs))[1:] + tbs + struct.pack(">H", len(sct.extension_bytes))
                  + sct.extension_bytes)
        if verify_ecdsa(log.key, sct.signature, signed):
            return
    raise CheckFailed("SCT", "no embedded SCT verifies with a CT log key of the trusted root")


# --- the log entry ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    body: bytes                     # the canonicalized entry, decoded
    integrated_time: int
    log_index: int
    log_id: bytes
    set: bytes                      # the SignedEntryTimestamp; b"" when absent
    proof: Optional[dict] = None    # {logIndex, rootHash, treeSize, hashes, checkpoint}

    @property
    def when(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.integrated_time, UTC)

    def json(self) -> dict:
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


def check_inclusion(entry: LogEntry, root: TrustedRoot) -> None:
    """The Merkle inclusion proof (RFC 9162) and the checkpoint that signs its root hash."""
    proof = entry.proof or {}
    try:
        index, size = int(proof["logIndex"]), int(proof["treeSize"])
        root_hash = base64.b64decode(proof["rootHash"])
        path = [base64.b64decode(h) for h in proof.get("hashes") or []]
        checkpoint = proof["checkpoint"]["envelope"]
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise CheckFailed("inclusion proof", "malformed") from None
    node = hashlib.sha256(b"\x00" + entry.body).digest()
    if not 0 <= index < size:
        raise CheckFailed("inclusion proof", "the index is outside the tree")
    last, position = size - 1, index
    for sibling in path:
        if last == 0:
            raise CheckFailed("inclusion proof", "the path is longer than the tree is deep")
        if position % 2 == 1 or position == last:
            node = hashlib.sha256(b"\x01" + sibling + node).digest()
            while position % 2 == 0 and position != 0:
                position, last = position >> 1, last >> 1
        else:
            node = hashlib.sha256(b"\x01" + node + sibling).digest()
        position, last = position >> 1, last >> 1
    if last != 0 or node != root_hash:
        raise CheckFailed("inclusion proof", "the entry's Merkle path does not lead to the proof's root hash")
    _check_checkpoint(str(checkpoint), root_hash, size, entry.log_id, root)


def _check_checkpoint(text: str, root_hash: bytes, size: int, log_id: bytes, root: TrustedRoot) -> None:
    note, sep, signatures = text.partition("\n\n")
    lines = note.split("\n")
    if not sep or len(lines) < 3:
        raise CheckFailed("checkpoint", "malformed signed note")
    log = root.tlogs.get(log_id)
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            continue
        try:
            raw = base64.b64decode(parts[2])
        except (ValueError, binascii.Error):
            continue
        if log is not None and raw[:4] == log_id[:4] and verify_ecdsa(log.key, raw[4:], (note + "\n").encode()):
            if lines[1] != str(size) or lines[2] != base64.b64encode(root_hash).decode():
                raise CheckFailed("checkpoint", "it names another tree size or root hash than the proof")
            return
    raise CheckFailed("checkpoint", "no signature of the log's key on the checkpoint verifies")


def b64(value: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (ValueError, binascii.Error):
        raise CheckFailed(what, "not base64") from None
