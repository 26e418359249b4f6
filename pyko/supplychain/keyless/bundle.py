"""Keyless Sigstore bundles (v0.1 to v0.3, cosign v3's signature and attestation referrers),
verified by sigstore-python's public Verifier; pyko finds the bundle, maps the policy flags
onto an Identity (a sigstore VerificationPolicy), and checks that the statement is about the
image's digest.

sigstore-python decides the certificate chain and its validity at the verified time, the SCT,
the log entry (inclusion proof with its signed checkpoint, and the SET when there is one),
the envelope's signature and its consistency with the log entry; it refuses a bundle with no
verified time (no SET and no signed timestamp). pyko then applies the validity windows of the
trusted root that sigstore-go applies and sigstore-python 4.5 does not (a log key, CT log key or
Fulcio CA whose window does not hold the verified time), with the same checks as the legacy
layout (checks.py), so both layouts answer to the same rules.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from typing import Tuple

from cryptography import x509

from ...errors import MalformedInput, clean_text
from .. import dsse
from .checks import check_chain, check_sct
from .identity import CheckFailed
from .legacy import KeylessPolicy

UTC = datetime.timezone.utc


@dataclass(frozen=True)
class BundleFacts:
    """What pyko reads from the bundle's JSON itself, after sigstore-python has verified it."""

    cert: x509.Certificate
    log_id: bytes
    integrated_time: int
    has_set: bool
    has_timestamps: bool


def _facts(data: bytes, where: str) -> BundleFacts:
    try:
        material = json.loads(data)["verificationMaterial"]
        raw = (material.get("certificate") or {}).get("rawBytes") or \
            material["x509CertificateChain"]["certificates"][0]["rawBytes"]
        tlog = material["tlogEntries"][0]
        return BundleFacts(x509.load_der_x509_certificate(base64.b64decode(raw)),
                           base64.b64decode(tlog["logId"]["keyId"]), int(tlog.get("integratedTime") or 0),
                           bool((tlog.get("inclusionPromise") or {}).get("signedEntryTimestamp")),
                           bool((material.get("timestampVerificationData") or {}).get("rfc3161Timestamps")))
    except (ValueError, KeyError, TypeError, IndexError, RecursionError, binascii.Error):
        raise CheckFailed("bundle", f"{where}: no keyless material (certificate and log entry)") from None


def verify_bundle(data: bytes, digest: str, policy: KeylessPolicy, where: str) -> Tuple[dsse.Statement, str]:
    """(the statement, the checks made) of a keyless bundle holding a DSSE envelope about `digest`."""
    facts = _facts(data, where)
    payload_type, body = _sigstore_verified(data, policy, where)
    checks = ["sigstore-python: certificate chain, SCT, inclusion proof and checkpoint"]
    checks.append("SET (the integrated time)" if facts.has_set else "signed timestamp")
    checks.append("identity and issuer, log entry, signature")
    if facts.has_set:
        _windows(facts, policy, where)
        checks.append("pyko: the trusted root's validity windows at the integrated time")
    if payload_type != dsse.IN_TOTO:
        raise CheckFailed("digest claim", f"{where}: the envelope holds {clean_text(payload_type, 80)}, "
                                          "not an in-toto statement")
    try:
        statement = dsse.parse_statement(body, where)
    except MalformedInput as err:
        raise CheckFailed("digest claim", str(err)) from None
    if not statement.names_digest(digest):
        raise CheckFailed("digest claim", f"{where}: the statement is about another image, not {digest}")
    return statement, ", ".join(checks + ["digest claim"])


def _sigstore_verified(data: bytes, policy: KeylessPolicy, where: str) -> Tuple[str, bytes]:
    """(payload type, payload) of the bundle's envelope, as sigstore-python's Verifier decides it."""
    from sigstore.models import Bundle
    from sigstore.verify import Verifier

    try:
        bundle = Bundle.from_json(data)
    except Exception as err:  # noqa: BLE001 - any failure to read it is a refusal, with sigstore's reason
        raise CheckFailed("bundle", f"{where}: sigstore-python cannot read it ({clean_text(err, 200)})") from None
    verifier = Verifier(trusted_root=policy.root.for_sigstore())
    try:
        return verifier.verify_dsse(bundle, policy.identity)
    except Exception as err:  # noqa: BLE001 - whatever sigstore-python raises is its refusal
        raise CheckFailed("bundle", f"{where}: sigstore-python refused it ({clean_text(err, 300)})") from None


def _windows(facts: BundleFacts, policy: KeylessPolicy, where: str) -> None:
    """sigstore-go's rules on top: the log key, the CT log key and the Fulcio CA each valid at the time."""
    when = datetime.datetime.fromtimestamp(facts.integrated_time, UTC)
    log = policy.root.tlogs.get(facts.log_id)
    if log is None or not log.window.holds(when):
        raise CheckFailed("SET", f"{where}: the log's key was not valid at the entry's integrated time")
    chain = check_chain(facts.cert, policy.root, when)
    check_sct(facts.cert, chain[0], policy.root)
