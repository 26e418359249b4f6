"""Sigstore bundles (v0.3) signed with a key: what `cosign sign` and `cosign attest` write by
default since cosign v3, stored as OCI 1.1 referrers of the image.

A bundle holds a DSSE envelope (an in-toto statement: predicate
`https://sigstore.dev/cosign/sign/v1` for a plain signature, or an SBOM's or a
provenance's type) and the verification material, here the public key's hint
(base64 of the SHA-256 of its DER SubjectPublicKeyInfo), with no transparency
log entry (pyko signs offline, as `cosign sign --key ... --tlog-upload=false`).
The referrer manifest follows cosign's BUNDLE_SPEC: artifactType the bundle's
media type, an empty config, the bundle as its one layer, annotations naming
the content and predicate type, `org.opencontainers.image.created` from
SOURCE_DATE_EPOCH (so rebuilding gives the same manifest).
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import List, Tuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from ..errors import MalformedInput
from ..image import BytesBlob, Descriptor
from ..transport import referrers
from ..util.jsontypes import JsonObject
from . import dsse

BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
BUNDLE_TYPES = (BUNDLE_V03, "application/vnd.dev.sigstore.bundle.v0.2+json",
                "application/vnd.dev.sigstore.bundle+json;version=0.3")
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
CONTENT = "dev.sigstore.bundle.content"
PREDICATE_TYPE = "dev.sigstore.bundle.predicateType"
CREATED = "org.opencontainers.image.created"
TITLE = "org.opencontainers.image.title"
MAX_BUNDLE = 32 << 20


def key_hint(public_key: PublicKeyTypes) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def signed_bundle(private_key: PrivateKeyTypes, body: bytes) -> bytes:
    """A v0.3 bundle of the statement `body`, signed as a DSSE envelope."""
    envelope = dsse.envelope(private_key, body)
    bundle = {"mediaType": BUNDLE_V03,
              "verificationMaterial": {"publicKey": {"hint": key_hint(private_key.public_key())}},
              "dsseEnvelope": {"payload": envelope["payload"], "payloadType": envelope["payloadType"],
                               "signatures": [{"sig": envelope["signatures"][0]["sig"]}]}}
    return json.dumps(bundle, separators=(",", ":")).encode()


def bundle_referrer(subject: Descriptor, bundle: bytes, predicate_type: str, created: str
                    ) -> Tuple[BytesBlob, List[BytesBlob]]:
    """The referrer manifest of a bundle about `subject`, and the blobs it needs."""
    layer = BytesBlob(BUNDLE_V03, bundle)
    title = layer.descriptor.digest.replace(":", "-") + ".sigstore.json"
    manifest = referrers.artifact(subject, BUNDLE_V03, layer,
                                  {CONTENT: "dsse-envelope", PREDICATE_TYPE: predicate_type, CREATED: created},
                                  {TITLE: title})
    return manifest, [referrers.EMPTY, layer]


def envelope_of(data: bytes, where: str) -> JsonObject:
    """The DSSE envelope a bundle holds (a bundle with a message signature holds none)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise MalformedInput(f"{where} is not JSON") from None
    if not isinstance(doc, dict) or doc.get("mediaType") not in BUNDLE_TYPES:
        raise MalformedInput(f"{where} is not a Sigstore bundle")
    envelope = doc.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise MalformedInput(f"{where} holds no DSSE envelope (a message signature, which pyko does not read)")
    return envelope
