"""Attachment stores: where signatures and SBOMs live beside an image, in its
registry repository or in the same OCI layout, under cosign's
`sha256-<hex>.<suffix>` tags.

Both implement AttachmentStore, so signing, verifying and SBOM attachment are
written once (pyko.supplychain) for both; they live here, below the supply chain, because
they are storage: tags and manifests in a repository or a layout.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional, Protocol, Tuple, Type

from ..errors import PykoError
from ..image import Blob, BytesBlob, Descriptor, mediatypes
from ..image.digest import check_digest
from ..image.documents import media_type_of
from . import oci_layout as layout
from .registry.client import Registry
from .registry.push import PushStats, push_blob
from .registry.repository import Repository


class AttachmentStore(Protocol):
    parallel: bool      # True if different subjects' attachments may be written at the same time

    def resolve(self, ident: str) -> Tuple[str, str]:
        """(digest, media type) of the image a tag or digest names, its manifest checked."""

    def manifest(self, tag: str) -> Optional[bytes]:
        """The manifest under `tag`, or None."""

    def manifest_bytes(self, digest: str) -> bytes: ...

    def blob(self, desc: Descriptor) -> bytes: ...

    def put(self, tag: str, manifest: BytesBlob, blobs: Iterable[Blob]) -> None:
        """Store `manifest` (and the blobs it needs) under `tag`."""

    def put_referrer(self, manifest: BytesBlob, blobs: Iterable[Blob]) -> bool:
        """Store a manifest with a subject, by digest; True if the store indexed it as a referrer itself."""

    def referrers_index(self, digest: str) -> Optional[bytes]:
        """The referrers API's index for `digest`, or None when the store has no such API."""


class RegistryAttachments:
    parallel = True     # subjects may be written at once: each has its own tags and referrers

    def __init__(self, registry: Registry, repository: str):
        self.repository = Repository(registry, repository)
        self._api: Optional[bool] = None

    def resolve(self, ident: str) -> Tuple[str, str]:
        """(digest, media type) of the image `ident` (a tag or digest) names."""
        _, media_type, digest = self.repository.get_manifest(ident)
        return digest, media_type

    def manifest(self, tag: str) -> Optional[bytes]:
        found = self.repository.find_manifest(tag)
        return found[0] if found else None

    def manifest_bytes(self, digest: str) -> bytes:
        return self.repository.get_manifest(digest)[0]

    def blob(self, desc: Descriptor) -> bytes:
        return self.repository.read_blob(desc.digest, desc.size)

    def put(self, tag: str, manifest: BytesBlob, blobs: Iterable[Blob]) -> None:
        if self.repository.head_manifest(tag, for_push=True) == manifest.descriptor.digest:
            return  # already there, byte for byte (an SBOM from an earlier, identical push)
        stats = PushStats()
        for blob in blobs:
            if blob.descriptor.media_type in mediatypes.MANIFEST_TYPES:
                continue  # a referrer's manifest, pushed by put_referrer
            push_blob(self.repository, blob, "", stats)
        self.repository.put_manifest(tag, manifest.data, manifest.media_type)

    def put_referrer(self, manifest: BytesBlob, blobs: Iterable[Blob]) -> bool:
        stats = PushStats()
        for blob in blobs:
            push_blob(self.repository, blob, "", stats)
        return self.repository.put_manifest_answer(manifest.descriptor.digest, manifest.data,
                                                   manifest.media_type)[1]

    def referrers_index(self, digest: str) -> Optional[bytes]:
        if self._api is False:
            return None  # asked once: this registry has no referrers API
        found = self.repository.referrers(digest)
        self._api = found is not None
        return found


class LayoutAttachments:
    """In a layout, a tag is the ref.name `<image name>:<tag>`, as pyko names images there."""

    parallel = False    # one index.json under one lock: one subject at a time

    def __init__(self, path: str, name: str):
        self.path, self.name = path, name

    def _ref(self, tag: str) -> str:
        return f"{self.name}:{tag}"

    def resolve(self, ident: str) -> Tuple[str, str]:
        """(digest, media type) of the image, after checking that the layout really
        holds its manifest with those bytes: a signature over a digest whose image
        is missing or altered verifies nothing."""
        if ":" in ident:
            check_digest(ident, "the image reference")
            return ident, media_type_of(layout.read_blob(self.path, ident), f"{self.path}: manifest {ident}")
        desc = layout.find(self.path, self._ref(ident))
        if desc is None:
            raise PykoError(f"OCI layout {self.path} has no image named {self._ref(ident)}")
        layout.read_blob(self.path, desc.digest, desc.size)
        return desc.digest, desc.media_type

    def manifest(self, tag: str) -> Optional[bytes]:
        desc = layout.find(self.path, self._ref(tag))
        return layout.read_blob(self.path, desc.digest) if desc else None

    def blob(self, desc: Descriptor) -> bytes:
        return layout.read_blob(self.path, desc.digest, desc.size)

    def manifest_bytes(self, digest: str) -> bytes:
        return layout.read_blob(self.path, digest)

    def put(self, tag: str, manifest: BytesBlob, blobs: Iterable[Blob]) -> None:
        layout.add_manifest(self.path, manifest.descriptor, [*blobs, manifest], [(self._ref(tag), "")])

    def put_referrer(self, manifest: BytesBlob, blobs: Iterable[Blob]) -> bool:
        return False  # a layout has no referrers API: the sha256-<hex> index (put) lists it

    def referrers_index(self, digest: str) -> Optional[bytes]:
        return None

if TYPE_CHECKING:   # each implementation checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    _registry: Type[AttachmentStore] = RegistryAttachments
    _layout: Type[AttachmentStore] = LayoutAttachments

