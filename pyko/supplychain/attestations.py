"""Attestations: signed in-toto statements about an image (its SBOM, its provenance), stored where
cosign looks for them, and verified.

Two storage forms, both read by `pyko verify-attestation`:
- legacy (the default): the `sha256-<hex>.att` manifest, one layer per DSSE
  envelope (application/vnd.dsse.envelope.v1+json, annotation predicateType),
  which cosign v2 and v3 both read with `cosign verify-attestation`;
- bundle: a Sigstore bundle as an OCI 1.1 referrer, what cosign v3 writes by
  default. cosign v2 refuses an image that has bundles ("trusted root is
  required"), so pyko writes one form or the other, never both.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ..errors import MalformedInput, UsageError, VerificationError
from ..image import Descriptor
from ..transport import referrers
from ..transport.attachment_stores import AttachmentStore
from . import bundles, cosign, dsse
from .signers import Signer

DSSE_LAYER = "application/vnd.dsse.envelope.v1+json"
PREDICATE_ANNOTATION = "predicateType"
SPDX = "https://spdx.dev/Document"
SLSA_V1 = "https://slsa.dev/provenance/v1"
#: cosign's --type names.
TYPES = {"spdxjson": SPDX, "spdx": SPDX, "slsaprovenance1": SLSA_V1,
         "slsaprovenance": "https://slsa.dev/provenance/v0.2", "slsaprovenance02": "https://slsa.dev/provenance/v0.2",
         "cyclonedx": "https://cyclonedx.org/bom", "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
         "openvex": "https://openvex.dev/ns", "custom": "https://cosign.sigstore.dev/attestation/v1"}
FORMATS = ("legacy", "bundle")


def predicate_type(text: str) -> str:
    """cosign's --type: a short name or a predicate type URI."""
    if text in TYPES:
        return TYPES[text]
    if "://" in text:
        return text
    raise UsageError(f"--type {text!r}: use {', '.join(sorted(TYPES))} or a predicate type URI")


@dataclass(frozen=True)
class Attestation:
    subject: Descriptor             # what it is about
    name: str                       # the repository, the statement's subject name
    predicate_type: str
    predicate: Mapping[str, Any]


def attest(store: AttachmentStore, items: Sequence[Attestation], signer: Signer, form: str,
           created: str) -> List[Tuple[str, str]]:
    """Sign and store attestations about one subject; returns (tag, or "" for a referrer; the digest
    of the manifest that holds it) for each place written. Legacy ones share one `.att` manifest,
    written once, so its recorded digest is the final one."""
    if not items:
        return []
    subject = items[0].subject
    bodies = [dsse.statement([(item.name, subject.digest)], item.predicate_type, item.predicate) for item in items]
    if form == "bundle":
        out = []
        for item, body in zip(items, bodies):
            manifest, blobs = bundles.bundle_referrer(subject, signer.sign_bundle(body), item.predicate_type, created)
            referrers.attach(store, subject, manifest, blobs)
            out.append(("", manifest.descriptor.digest))
        return out
    tag = cosign.tag_for(subject.digest, "att")
    layers = cosign.existing_layers(store.manifest(tag), store.blob, f"attestation manifest {tag}")
    for item, body in zip(items, bodies):
        envelope, extra = signer.sign_envelope(body)
        new = cosign.ArtifactLayer(DSSE_LAYER, json.dumps(envelope, separators=(",", ":")).encode(),
                                   {cosign.SIGNATURE_ANNOTATION: "", PREDICATE_ANNOTATION: item.predicate_type,
                                    **extra})
        if not any(layer.data == new.data for layer in layers):  # deterministic signatures: a rebuild adds nothing
            layers.append(new)
    manifest, blobs = cosign.artifact_manifest(layers)
    store.put(tag, manifest, blobs)
    return [(tag, manifest.descriptor.digest)]


def envelopes(store: AttachmentStore, digest: str, wanted_type: str = "") -> List[Tuple[str, object]]:
    """(where, DSSE envelope) of every attestation stored for `digest`, in both forms."""
    out: List[Tuple[str, object]] = []
    tag = cosign.tag_for(digest, "att")
    for n, layer in enumerate(cosign.existing_layers(store.manifest(tag), store.blob, tag), 1):
        if layer.media_type == DSSE_LAYER:
            out.append((f"{tag} layer {n}", _json(layer.data, f"{tag} layer {n}")))
    return out + bundle_envelopes(store, digest, wanted_type)


def bundle_envelopes(store: AttachmentStore, digest: str, wanted_type: str = "") -> List[Tuple[str, object]]:
    """(where, DSSE envelope) of each Sigstore bundle referring to `digest` (of one predicate type)."""
    return [(where, bundles.envelope_of(data, where)) for where, data in bundle_blobs(store, digest, wanted_type)]


def bundle_blobs(store: AttachmentStore, digest: str, wanted_type: str = "") -> List[Tuple[str, bytes]]:
    """(where, the bundle's bytes) of each Sigstore bundle referring to `digest`."""
    from ..image.documents import parse_manifest

    out: List[Tuple[str, bytes]] = []
    for entry in referrers.find(store, digest, bundles.BUNDLE_V03):
        found_type = (entry.annotations or {}).get(bundles.PREDICATE_TYPE, "")
        if wanted_type and found_type and found_type != wanted_type:
            continue
        where = f"bundle {entry.digest[:19]}"
        manifest = parse_manifest(store.manifest_bytes(entry.digest), where)
        if not manifest.layers:
            raise MalformedInput(f"{where}: the referrer has no layer")
        out.append((where, store.blob(manifest.layers[0])))
    return out


def _json(data: bytes, where: str) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise MalformedInput(f"{where} is not JSON") from None


def verify_attestations(store: AttachmentStore, digest: str, public_key: PublicKeyTypes, wanted_type: str,
                        shown: str) -> List[dsse.Statement]:
    """The statements of type `wanted_type` about `digest` that verify with `public_key`; raises
    VerificationError with every reason when none do."""
    found = envelopes(store, digest, wanted_type)
    if not found:
        raise VerificationError(f"no attestations found for {shown} ({digest})")
    good, reasons = [], []
    for where, envelope in found:
        try:
            statement = dsse.parse_statement(dsse.verify_envelope(public_key, envelope, where), where)
        except MalformedInput as err:
            reasons.append(str(err))
            continue
        if statement.predicate_type != wanted_type:
            continue  # another kind of attestation: not an error, not a match
        if not statement.names_digest(digest):
            reasons.append(f"{where}: its subject is not {digest}")
            continue
        good.append(statement)
    if not good:
        why = "; ".join(reasons) or f"none of type {wanted_type}"
        raise VerificationError(f"no valid {wanted_type} attestation for {shown}: {why}")
    return good


def format_or_default(text: Optional[str]) -> str:
    form = text or "legacy"
    if form not in FORMATS:
        raise UsageError(f"--signature-format {form!r}: use legacy or bundle")
    return form
