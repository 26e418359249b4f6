"""Supply chain operations on an image wherever it is stored: sign it, verify its
signatures, attach its SBOMs. They work on any AttachmentStore (a registry
repository or an OCI layout, pyko.transport.attachment_stores)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Mapping, Optional

from . import cosign
from .errors import UsageError, VerificationError
from .image import mediatypes
from .image.documents import parse_index

SBOM_MEDIA_TYPE = "text/spdx+json"


@dataclass(frozen=True)
class Stored:
    """Something attached beside an image: its tag and the digest of the manifest stored there."""

    kind: str           # "signature", "sbom", ...
    subject: str        # the digest it is attached to
    tag: str
    digest: str


def sign_digest(store, digest: str, docker_reference: str, private_key,
                annotations: Optional[Mapping[str, str]] = None) -> Stored:
    """Sign `digest` and append the signature to its `.sig` manifest."""
    signed = cosign.payload(docker_reference, digest, annotations)
    signature = cosign.sign(private_key, signed)
    tag = cosign.tag_for(digest, "sig")
    existing = cosign.existing_layers(store.manifest(tag), store.blob)
    layers = cosign.add_signature(existing, signed, signature)
    manifest, blobs = cosign.artifact_manifest(layers)
    store.put(tag, manifest, blobs)
    return Stored("signature", digest, tag, manifest.descriptor.digest)


def verify_digest(store, digest: str, public_key, required: Mapping[str, str], shown: str) -> List[bytes]:
    """The payloads of `digest`'s signatures that verify; raises with the reasons if none do."""
    raw = store.manifest(cosign.tag_for(digest, "sig"))
    if raw is None:
        raise VerificationError(f"no signatures found for {shown} ({digest})")
    layers = cosign.existing_layers(raw, store.blob)
    good, reasons = cosign.verify_layers(public_key, layers, digest, required)
    if not good:
        raise VerificationError(f"no valid signature for {shown}: " + "; ".join(reasons))
    return [v.payload for v in good]


def attach_sbom(store, digest: str, document: bytes) -> Stored:
    """Store an SPDX document at `sha256-<hex>.sbom`, cosign's convention."""
    tag = cosign.tag_for(digest, "sbom")
    manifest, blobs = cosign.artifact_manifest([cosign.ArtifactLayer(SBOM_MEDIA_TYPE, document, {})])
    store.put(tag, manifest, blobs)
    return Stored("sbom", digest, tag, manifest.descriptor.digest)


def subjects(store, ident: str, recursive: bool) -> List[str]:
    """The digest `ident` names, then (recursive, for an index) its children's digests."""
    digest, media_type = store.resolve(ident)
    out = [digest]
    if recursive and media_type in mediatypes.INDEX_TYPES:
        index = parse_index(store.manifest_bytes(digest), f"index {digest}")
        out += [desc.digest for desc in index.manifests]
    return out


def store_for(image: str, oci_layout: str, registries):
    """(attachment store, identifier, name) for IMAGE in a registry or, with
    `oci_layout`, in that layout (named NAME:TAG or NAME@DIGEST there)."""
    from .reference import Reference
    from .transport.attachment_stores import LayoutAttachments, RegistryAttachments

    if oci_layout:
        name, _, ident = image.rpartition("@") if "@" in image else image.rpartition(":")
        if not name:
            raise UsageError(f"name the image in the layout as NAME:TAG or NAME@DIGEST, not {image!r}")
        return LayoutAttachments(oci_layout, name), ident, name
    ref = Reference.parse(image)
    return RegistryAttachments(registries(ref.registry), ref.repository), ref.identifier, ref.name
