"""Supply chain operations on an image wherever it is stored: sign it, verify its
signatures, attach its SBOMs. They work on any AttachmentStore (a registry
repository or an OCI layout, pyko.transport.attachment_stores)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Mapping, Optional

from ..errors import UsageError
from ..image import BytesBlob, Descriptor, mediatypes
from ..image.documents import parse_index
from ..transport import referrers
from . import bundles, cosign, dsse

SBOM_MEDIA_TYPE = "text/spdx+json"


@dataclass(frozen=True)
class Stored:
    """Something attached beside an image: its tag and the digest of the manifest stored there."""

    kind: str           # "signature", "sbom", ...
    subject: str        # the digest it is attached to
    tag: str
    digest: str


def sign_digest(store, digest: str, docker_reference: str, private_key,
                annotations: Optional[Mapping[str, str]] = None, form: str = "legacy",
                subject: Optional[Descriptor] = None, created: str = "") -> Stored:
    """Sign `digest`: appended to its `.sig` manifest (legacy, cosign v2 and v3 read it), or as a
    Sigstore bundle referrer (cosign v3's default; `subject` is then the signed manifest's descriptor)."""
    if form == "bundle":
        body = dsse.statement([(docker_reference, digest)], bundles.SIGN_PREDICATE, {}, dict(annotations or {}))
        manifest, blobs = bundles.bundle_referrer(subject, bundles.signed_bundle(private_key, body),
                                                  bundles.SIGN_PREDICATE, created)
        referrers.attach(store, subject, manifest, blobs)
        return Stored("signature", digest, "", manifest.descriptor.digest)  # a referrer: named by digest
    signed = cosign.payload(docker_reference, digest, annotations)
    signature = cosign.sign(private_key, signed)
    tag = cosign.tag_for(digest, "sig")
    existing = cosign.existing_layers(store.manifest(tag), store.blob)
    layers = cosign.add_signature(existing, signed, signature)
    manifest, blobs = cosign.artifact_manifest(layers)
    store.put(tag, manifest, blobs)
    return Stored("signature", digest, tag, manifest.descriptor.digest)


SBOM_ARTIFACT = "application/spdx+json"


def attach_sbom(store, digest: str, document: bytes, subject: Optional[Descriptor] = None,
                created: str = "") -> List[Stored]:
    """Store an SPDX document at `sha256-<hex>.sbom` (cosign's and ko's convention) and, given the
    subject's descriptor, as an OCI 1.1 referrer too (artifactType application/spdx+json)."""
    tag = cosign.tag_for(digest, "sbom")
    manifest, blobs = cosign.artifact_manifest([cosign.ArtifactLayer(SBOM_MEDIA_TYPE, document, {})])
    store.put(tag, manifest, blobs)
    out = [Stored("sbom", digest, tag, manifest.descriptor.digest)]
    if subject is not None:
        layer = BytesBlob(SBOM_ARTIFACT, document)
        referrer = referrers.artifact(subject, SBOM_ARTIFACT, layer, {"org.opencontainers.image.created": created})
        referrers.attach(store, subject, referrer, [referrers.EMPTY, layer])
        out.append(Stored("sbom-referrer", digest, "", referrer.descriptor.digest))
    return out


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
    from ..reference import Reference
    from ..transport.attachment_stores import LayoutAttachments, RegistryAttachments

    if oci_layout:
        name, _, ident = image.rpartition("@") if "@" in image else image.rpartition(":")
        if not name:
            raise UsageError(f"name the image in the layout as NAME:TAG or NAME@DIGEST, not {image!r}")
        return LayoutAttachments(oci_layout, name), ident, name
    ref = Reference.parse(image)
    return RegistryAttachments(registries(ref.registry), ref.repository), ref.identifier, ref.name
