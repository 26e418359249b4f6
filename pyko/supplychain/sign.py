"""Supply chain operations on an image wherever it is stored: sign it, verify its
signatures, attach its SBOMs. They work on any AttachmentStore (a registry
repository or an OCI layout, pyko.transport.attachment_stores)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Literal, Mapping, Optional, Tuple

from ..errors import SigningError, UsageError
from ..image import BytesBlob, Descriptor, mediatypes
from ..image.documents import media_type_of, parse_index
from ..transport import referrers
from ..transport.attachment_stores import AttachmentStore
from ..transport.registry.hosts import Registries
from . import bundles, cosign, dsse
from .signers import KeySigner, Signer, SignerRequest

SBOM_MEDIA_TYPE = "text/spdx+json"


#: What is stored beside an image.
AttachmentKind = Literal["signature", "sbom", "attestation"]


@dataclass(frozen=True)
class Stored:
    """Something attached beside an image: its tag and the digest of the manifest stored there."""

    kind: AttachmentKind
    subject: str        # the digest it is attached to
    tag: str            # cosign's tag (sha256-<hex>.sig, .sbom, .att), or "" for an OCI 1.1 referrer
    digest: str         # of the manifest stored


def sign_digest(store: AttachmentStore, subject: Descriptor, docker_reference: str, signer: Signer,
                annotations: Optional[Mapping[str, str]] = None, form: str = "legacy", created: str = "") -> Stored:
    """Sign the manifest `subject` describes: appended to its `.sig` manifest (legacy, cosign v2 and
    v3 read it), or as a Sigstore bundle referrer of it (cosign v3's default)."""
    digest = subject.digest
    if form == "bundle":
        body = dsse.statement([(docker_reference, digest)], bundles.SIGN_PREDICATE, {}, dict(annotations or {}))
        manifest, blobs = bundles.bundle_referrer(subject, signer.sign_bundle(body), bundles.SIGN_PREDICATE, created)
        referrers.attach(store, subject, manifest, blobs)
        return Stored("signature", digest, "", manifest.descriptor.digest)  # a referrer: named by digest
    signed = cosign.payload(docker_reference, digest, annotations)
    signature, extra = signer.sign_payload(signed)
    tag = cosign.tag_for(digest, "sig")
    existing = cosign.existing_layers(store.manifest(tag), store.blob)
    layers = cosign.add_signature(existing, signed, signature, extra)
    manifest, blobs = cosign.artifact_manifest(layers)
    store.put(tag, manifest, blobs)
    return Stored("signature", digest, tag, manifest.descriptor.digest)


def described(store: AttachmentStore, digest: str) -> Descriptor:
    """The descriptor of the manifest stored at `digest` (its media type read from it)."""
    raw = store.manifest_bytes(digest)
    return Descriptor(media_type_of(raw, f"manifest {digest[:19]}"), digest, len(raw))


def sign_image(store: AttachmentStore, digest: str, name: str, signer: Signer, recursive: bool = False,
               annotations: Optional[Mapping[str, str]] = None, form: str = "legacy",
               created: str = "") -> List[Stored]:
    """Sign the manifest at `digest` and, `recursive` for an index, each manifest it lists: what
    `pyko sign`, `index create` and `rebase` do (a build signs through attach.py, which has the
    descriptors already)."""
    return [sign_digest(store, described(store, subject), name, signer, annotations, form, created)
            for subject in subjects(store, digest, recursive)]


@dataclass(frozen=True)
class Signing:
    """How a command signs what it wrote: the signer and the choices every command shares."""

    signer: Signer
    recursive: bool = False
    form: str = "legacy"
    annotations: Tuple[Tuple[str, str], ...] = ()
    created: str = ""
    key: str = ""                        # the key file, when a key signs (for the retry line)

    def sign(self, store: AttachmentStore, digest: str, name: str, layout: str = "") -> List[Stored]:
        """sign_image with these choices; a failure says what is written unsigned and how to sign it."""
        try:
            return sign_image(store, digest, name, self.signer, self.recursive, dict(self.annotations), self.form,
                              self.created)
        except SigningError as err:
            raise self.unsigned(f"{name}@{digest}", err, layout) from None

    def unsigned(self, reference: str, err: SigningError, layout: str = "") -> SigningError:
        """The error for `reference`, written but not signed: why, and the `pyko sign` line that
        signs it once the cause is fixed."""
        options = " --recursive" if self.recursive else ""
        options += " --signature-format bundle" if self.form == "bundle" else ""
        options += f" --key {self.key}" if self.key else ""
        options += f" --oci-layout {layout}" if layout else ""
        return SigningError(f"{reference} is written but not signed: {err}; once that is fixed, sign it with "
                            f"`pyko sign{options} {reference}`")


def open_signer(request: SignerRequest, environ: Mapping[str, str], offline: bool = False) -> Optional[Signer]:
    """The signer the request names, its secrets read now (the key's password, the OIDC token), so
    a missing or expired one stops the command before anything is built or written."""
    if request.keyless:
        from .keyless.signing import open_keyless

        return open_keyless(request, environ, offline)
    if request.key:
        return KeySigner(cosign.load_private_key(request.key, environ), request.key)
    return None


def open_signing(request: SignerRequest, environ: Mapping[str, str], offline: bool = False, recursive: bool = False,
                 annotations: Tuple[Tuple[str, str], ...] = (), created: str = "") -> Optional[Signing]:
    """The Signing a command's flags ask for (its secrets read now, before anything is written), or None."""
    signer = open_signer(request, environ, offline)
    if signer is None:
        return None
    return Signing(signer, recursive, "legacy" if request.legacy else "bundle", annotations, created, request.key)


SBOM_ARTIFACT = "application/spdx+json"


def attach_sbom(store: AttachmentStore, digest: str, document: bytes, subject: Optional[Descriptor] = None,
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
        out.append(Stored("sbom", digest, "", referrer.descriptor.digest))
    return out


def subjects(store: AttachmentStore, ident: str, recursive: bool) -> List[str]:
    """The digest `ident` names, then (recursive, for an index) its children's digests."""
    digest, media_type = store.resolve(ident)
    out = [digest]
    if recursive and media_type in mediatypes.INDEX_TYPES:
        index = parse_index(store.manifest_bytes(digest), f"index {digest}")
        out += [desc.digest for desc in index.manifests]
    return out


def store_for(image: str, oci_layout: str, registries: Registries) -> Tuple[AttachmentStore, str, str]:
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
