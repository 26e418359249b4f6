"""Where signatures and SBOMs are attached: next to the image, in its registry
repository or in the same OCI layout, under cosign's `sha256-<hex>.<suffix>` tags.

Both stores answer the same four questions, so signing, verifying and SBOM
attachment are written once (pyko.attach) for both.
"""
from __future__ import annotations

import json
from typing import Iterable, Optional, Tuple

from ..errors import PykoError
from ..image import Blob, BytesBlob, Descriptor
from . import layout
from .registry.client import Registry
from .registry.push import PushStats, push_blob


class RegistryAttachments:
    def __init__(self, registry: Registry, repository: str):
        self.registry, self.repository = registry, repository

    def resolve(self, ident: str) -> Tuple[str, str]:
        """(digest, media type) of the image `ident` (a tag or digest) names."""
        _, media_type, digest = self.registry.get_manifest(self.repository, ident)
        return digest, media_type

    def manifest(self, tag: str) -> Optional[bytes]:
        found = self.registry.find_manifest(self.repository, tag)
        return found[0] if found else None

    def manifest_bytes(self, digest: str) -> bytes:
        return self.registry.get_manifest(self.repository, digest)[0]

    def blob(self, desc: Descriptor) -> bytes:
        return self.registry.read_blob(self.repository, desc.digest, desc.size)

    def put(self, tag: str, manifest: BytesBlob, blobs: Iterable[Blob]) -> None:
        stats = PushStats()
        for blob in blobs:
            push_blob(self.registry, self.repository, blob, "", stats)
        self.registry.put_manifest(self.repository, tag, manifest.data, manifest.media_type)


class LayoutAttachments:
    """In a layout, a tag is the ref.name `<image name>:<tag>`, as pyko names images there."""

    def __init__(self, path: str, name: str):
        self.path, self.name = path, name

    def _ref(self, tag: str) -> str:
        return f"{self.name}:{tag}"

    def resolve(self, ident: str) -> Tuple[str, str]:
        if ident.startswith("sha256:"):
            return ident, json.loads(layout.read_blob(self.path, ident)).get("mediaType", "")
        desc = layout.find(self.path, self._ref(ident))
        if desc is None:
            raise PykoError(f"OCI layout {self.path} has no image named {self._ref(ident)}")
        return desc.digest, desc.media_type

    def manifest(self, tag: str) -> Optional[bytes]:
        desc = layout.find(self.path, self._ref(tag))
        return layout.read_blob(self.path, desc.digest) if desc else None

    def blob(self, desc: Descriptor) -> bytes:
        return layout.read_blob(self.path, desc.digest)

    def manifest_bytes(self, digest: str) -> bytes:
        return layout.read_blob(self.path, digest)

    def put(self, tag: str, manifest: BytesBlob, blobs: Iterable[Blob]) -> None:
        layout.add_manifest(self.path, manifest.descriptor, [*blobs, manifest], [(self._ref(tag), "")])
