"""in-toto statements in DSSE envelopes: what attestations and cosign v3's signatures are made of.

A statement says "these subjects (by digest) have this predicate"; the DSSE
envelope signs the statement's exact bytes through the pre-authentication
encoding, PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body, so that the
payload type is signed too. Signing and verifying use supplychain/cosign.py's key code.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from ..errors import MalformedInput
from ..util.jsontypes import JsonObject
from . import cosign, strict_json

IN_TOTO = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
MAX_ENVELOPE = 32 << 20


def pae(payload_type: str, body: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def statement(subjects: Sequence[Tuple[str, str]], predicate_type: str, predicate: Mapping[str, Any],
              annotations: Optional[Mapping[str, str]] = None) -> bytes:
    """A v1 statement for `subjects` ((name, "sha256:hex")), serialised once, compactly.
    `annotations` go on each subject (cosign v3 keeps `sign -a` values there)."""
    def subject(name: str, digest: str) -> JsonObject:
        out = {"name": name, "digest": dict([digest.split(":", 1)])}
        if annotations:
            out["annotations"] = dict(annotations)
        return out

    doc = {
        "_type": STATEMENT_V1,
        "subject": [subject(name, digest) for name, digest in subjects],
        "predicateType": predicate_type,
        "predicate": predicate,
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=False).encode()


def envelope(private_key: PrivateKeyTypes, body: bytes, payload_type: str = IN_TOTO) -> JsonObject:
    signature = cosign.sign(private_key, pae(payload_type, body))
    return {"payloadType": payload_type, "payload": base64.b64encode(body).decode(),
            "signatures": [{"keyid": "", "sig": signature}]}


@dataclass(frozen=True)
class Statement:
    raw: bytes
    predicate_type: str
    subjects: Tuple[Tuple[str, Mapping[str, str]], ...]   # (name, {algorithm: hex})
    predicate: object
    annotations: Tuple[Mapping[str, str], ...] = ()        # each subject's annotations

    def names_digest(self, digest: str) -> bool:
        algorithm, _, hex_digest = digest.partition(":")
        return any(found.get(algorithm) == hex_digest for _, found in self.subjects)

    def subject_annotations(self, digest: str) -> Mapping[str, str]:
        algorithm, _, hex_digest = digest.partition(":")
        for (_, found), notes in zip(self.subjects, self.annotations):
            if found.get(algorithm) == hex_digest:
                return notes
        return {}


def parse_envelope(doc: object, where: str) -> Tuple[str, bytes, List[str]]:
    """(payloadType, payload bytes, base64 signatures) of a DSSE envelope, its types checked."""
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where}: a DSSE envelope must be a JSON object")
    payload_type, payload, signatures = doc.get("payloadType"), doc.get("payload"), doc.get("signatures")
    if not isinstance(payload_type, str) or not isinstance(payload, str) or not isinstance(signatures, list):
        raise MalformedInput(f"{where}: not a DSSE envelope (payloadType, payload, signatures)")
    try:
        body = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{where}: the envelope's payload is not base64") from None
    sigs = [str(s["sig"]) for s in signatures if isinstance(s, dict) and isinstance(s.get("sig"), str)]
    return payload_type, body, sigs


def verify_envelope(public_key: PublicKeyTypes, doc: object, where: str) -> bytes:
    """The payload of an envelope one of whose signatures verifies with `public_key`, or MalformedInput."""
    payload_type, body, signatures = parse_envelope(doc, where)
    message = pae(payload_type, body)
    if not any(cosign.verify(public_key, message, sig) for sig in signatures):
        raise MalformedInput(f"{where}: no signature of the envelope verifies with this key "
                             "(another key, or the envelope was altered)")
    if payload_type != IN_TOTO:
        raise MalformedInput(f"{where}: the envelope holds {payload_type[:60]!r}, not an in-toto statement")
    return body


def parse_statement(body: bytes, where: str) -> Statement:
    doc = strict_json.loads(body, f"{where}: the statement")  # as cosign reads it: no case-twin keys
    if not isinstance(doc, dict) or doc.get("_type") not in (STATEMENT_V1, STATEMENT_V01):
        raise MalformedInput(f"{where}: not an in-toto statement")
    subjects = doc.get("subject")
    predicate_type = doc.get("predicateType")
    if not isinstance(subjects, list) or not isinstance(predicate_type, str):
        raise MalformedInput(f"{where}: the statement has no subject list or predicateType")
    parsed, noted = [], []
    for subject in subjects:
        if isinstance(subject, dict) and isinstance(subject.get("digest"), dict):
            digests = {k: v for k, v in subject["digest"].items() if isinstance(k, str) and isinstance(v, str)}
            parsed.append((str(subject.get("name", "")), digests))
            notes = subject.get("annotations")
            noted.append({k: str(v) for k, v in notes.items()} if isinstance(notes, dict) else {})
    return Statement(body, predicate_type, tuple(parsed), doc.get("predicate"), tuple(noted))
