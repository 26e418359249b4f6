"""Base images from a registry: an index (or one image) whose platforms are
pulled on demand into a content-addressed cache, every byte verified.

A reference pinned by digest whose manifests and blobs are all cached needs
no network at all; a tag is always resolved online.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Callable, Dict, List, Optional

from ...errors import PykoError, UsageError
from ...image import BytesBlob, Descriptor, FileBlob, Image, Layer, mediatypes
from ...platforms import Platform
from ...reference import Reference
from ..atomic import write_bytes
from .client import Registry

# Docker layer types have OCI twins with the same bytes; pyko writes OCI
# manifests and must not mix the two (image-spec), so it relabels them.
_OCI_LAYER = {
    mediatypes.DOCKER_LAYER_GZIP: mediatypes.OCI_LAYER_GZIP,
    "application/vnd.docker.image.rootfs.diff.tar": mediatypes.OCI_LAYER_TAR,
}
_KNOWN_ARCHES = {"386", "amd64", "arm64", "arm", "ppc64le", "riscv64", "s390x"}


class BlobCache:
    """`<cache>/blobs/sha256/<hex>`: written only after verification, so a name is a proof."""

    def __init__(self, root: str):
        self.dir = os.path.join(root, "blobs", "sha256")
        os.makedirs(self.dir, exist_ok=True)

    def path(self, digest: str) -> str:
        return os.path.join(self.dir, digest.split(":", 1)[1])

    def has(self, digest: str, size: Optional[int] = None) -> bool:
        path = self.path(digest)
        return os.path.isfile(path) and (size is None or os.path.getsize(path) == size)

    def read(self, digest: str) -> bytes:
        with open(self.path(digest), "rb") as f:
            return f.read()

    def write(self, digest: str, data: bytes) -> None:
        write_bytes(self.path(digest), data)


class RemoteBase:
    """A base image in a registry, offering what Index offers to the orchestrator:
    platforms() and image_for(platform), plus its name and digests for annotations."""

    def __init__(self, ref: Reference, connect: Callable[[], Registry], cache: BlobCache):
        self.ref, self.cache = ref, cache
        self._connect, self._registry = connect, None
        raw, media_type, self.digest = self._manifest(ref.identifier)
        self.name = str(ref.with_tag(ref.tag or "latest")) if not ref.digest else str(ref)
        self._images: Dict[Platform, Image] = {}
        self._lock = threading.Lock()
        doc = json.loads(raw)
        if media_type in mediatypes.INDEX_TYPES:
            self.entries = self._platform_entries(doc)
        elif media_type in mediatypes.MANIFEST_TYPES:
            image = self._image(raw, media_type)
            self.entries = {image.platform: image.descriptor}
            self._images[image.platform] = image
        else:
            raise PykoError(f"base image {ref}: unsupported media type {media_type!r}")
        if not self.entries:
            raise PykoError(f"base image {ref} has no linux image pyko can build on")

    def _manifest(self, ident: str):
        """A manifest by digest from the cache, else from the registry (then cached)."""
        if ident.startswith("sha256:") and self.cache.has(ident):
            raw = self.cache.read(ident)
            return raw, json.loads(raw).get("mediaType", ""), ident
        raw, media_type, digest = self.registry.get_manifest(self.ref.repository, ident)
        self.cache.write(digest, raw)
        return raw, media_type, digest

    @property
    def registry(self) -> Registry:
        """Connected only when something is not cached, so pinned bases build offline."""
        if self._registry is None:
            self._registry = self._connect()
        return self._registry

    @staticmethod
    def _platform_entries(doc: dict) -> Dict[Platform, Descriptor]:
        out: Dict[Platform, Descriptor] = {}
        for entry in doc.get("manifests", []):
            desc = Descriptor.from_json(entry)
            annotations = desc.annotations or {}
            if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            p = desc.platform
            if p is None or p.os != "linux" or p.architecture not in _KNOWN_ARCHES:
                continue  # attestations ("unknown/unknown"), other OSes
            if p.architecture == "arm64" and p.variant == "v8":
                p = Platform("linux", "arm64")
            out.setdefault(p, desc)
        return out

    def platforms(self) -> List[Platform]:
        return list(self.entries)

    def digest_for(self, platform: Platform) -> str:
        return self.entries[platform].digest

    def image_for(self, platform: Platform) -> Image:
        with self._lock:
            if platform not in self._images:
                raw, media_type, _ = self._manifest(self.entries[platform].digest)
                self._images[platform] = self._image(raw, media_type)
            return self._images[platform]

    def layer_sources(self) -> Dict[str, Reference]:
        """Each pulled layer's digest -> this base's reference (for cross-repo mounts)."""
        with self._lock:
            return {layer.descriptor.digest: self.ref for image in self._images.values() for layer in image.layers}

    def _blob(self, desc: Descriptor) -> str:
        if not self.cache.has(desc.digest, desc.size):
            self.registry.fetch_blob(self.ref.repository, desc.digest, desc.size, self.cache.path(desc.digest))
        return self.cache.path(desc.digest)

    def _image(self, raw: bytes, media_type: str) -> Image:
        manifest = json.loads(raw)
        config_desc = Descriptor.from_json(manifest["config"])
        with open(self._blob(config_desc), "rb") as f:
            config_bytes = f.read()
        config = json.loads(config_bytes)
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        layer_descs = [Descriptor.from_json(layer) for layer in manifest.get("layers", [])]
        if len(diff_ids) != len(layer_descs):
            raise PykoError(f"base image {self.ref}: its config lists {len(diff_ids)} diff IDs "
                            f"for {len(layer_descs)} layers")
        layers = []
        for desc, diff_id in zip(layer_descs, diff_ids):
            path = self._blob(desc)
            relabelled = desc.with_(media_type=_OCI_LAYER.get(desc.media_type, desc.media_type),
                                    annotations=None)
            layers.append(Layer(FileBlob(relabelled, path), diff_id))
        config_blob = BytesBlob(mediatypes.OCI_CONFIG, config_bytes)
        return Image(BytesBlob(media_type, raw), config_blob, tuple(layers))


def open_base(ref_text: str, registry_for: Callable[[str], Registry], cache_root: str) -> RemoteBase:
    """`registry_for(host)` gives the Registry client for a host, when needed."""
    try:
        ref = Reference.parse(ref_text)
    except UsageError as err:
        raise UsageError(f"base image: {err}") from None
    return RemoteBase(ref, lambda: registry_for(ref.registry), BlobCache(cache_root))
