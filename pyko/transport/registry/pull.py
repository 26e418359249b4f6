"""Base images from a registry: an index (or one image) whose platforms are
pulled on demand into a content-addressed cache, every byte verified.

A reference pinned by digest whose manifests and blobs are all cached needs
no network at all; a tag is always resolved online.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ...errors import MalformedInput, PykoError, UsageError
from ...image import BytesBlob, Descriptor, Image, Layer, LazyBlob, mediatypes
from ...image.blob_cache import BlobCache
from ...image.digest import digest_of
from ...image.documents import media_type_of, parse_config, parse_index, parse_manifest
from ...platforms import Platform
from ...reference import Reference
from .client import KeyedLocks, Registry
from .repository import MAX_MANIFEST, Repository

MAX_CONFIG = 8 << 20   # bytes: real configs are a few KiB
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"

# Docker layer types have OCI twins with the same bytes; pyko writes OCI
# manifests and must not mix the two (image-spec), so it relabels them.
_OCI_LAYER = {
    mediatypes.DOCKER_LAYER_GZIP: mediatypes.OCI_LAYER_GZIP,
    "application/vnd.docker.image.rootfs.diff.tar": mediatypes.OCI_LAYER_TAR,
}
_KNOWN_ARCHES = {"386", "amd64", "arm64", "arm", "ppc64le", "riscv64", "s390x"}


class RemoteBase:
    """A base image in a registry, offering what Index offers to the orchestrator:
    platforms() and image_for(platform), plus its name and digests for annotations."""

    def __init__(self, ref: Reference, connect: Callable[[], Registry], cache: BlobCache):
        self.ref, self.cache = ref, cache
        self._connect = connect
        self._repository: Optional[Repository] = None
        raw, media_type, self.digest = self._manifest(ref.identifier)
        self.name = str(ref.with_tag(ref.tag or "latest")) if not ref.digest else str(ref)
        self._images: Dict[Platform, Image] = {}
        self._lock = threading.Lock()
        self._blob_locks = KeyedLocks()
        self.media_type = media_type
        self._index_annotations: Dict[str, str] = {}
        if media_type in mediatypes.INDEX_TYPES:
            self.entries = self._platform_entries(raw)
        elif media_type in mediatypes.MANIFEST_TYPES:
            image = self._image(raw, media_type)
            self.entries = {image.platform: image.descriptor}
            self._images[image.platform] = image
        else:
            raise PykoError(f"base image {ref}: unsupported media type {media_type[:80]!r}")
        if not self.entries:
            raise PykoError(f"base image {ref} has no linux image pyko can build on")

    def _where(self, what: str) -> str:
        return f"base image {self.ref}: {what}"

    def _manifest(self, ident: str) -> Tuple[bytes, str, str]:
        """A manifest by digest from the cache (checked), else from the registry (then cached)."""
        if ":" in ident and self.cache.has(ident):
            raw = self.cache.read(ident, MAX_MANIFEST)
            return raw, media_type_of(raw, self._where(f"cached manifest {ident}")), ident
        raw, media_type, digest = self.repository.get_manifest(ident)
        self.cache.write(digest, raw)
        return raw, media_type, digest

    @property
    def repository(self) -> Repository:
        """Connected only when something is not cached, so pinned bases build offline."""
        if self._repository is None:
            self._repository = Repository(self._connect(), self.ref.repository)
        return self._repository

    def _platform_entries(self, raw: bytes) -> Dict[Platform, Descriptor]:
        out: Dict[Platform, Descriptor] = {}
        index = parse_index(raw, self._where("its index"))
        self._index_annotations = dict(index.annotations)
        for desc in index.manifests:
            annotations = desc.annotations or {}
            if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            p = desc.platform
            if p is None or p.os != "linux" or p.architecture not in _KNOWN_ARCHES:
                continue  # attestations ("unknown/unknown"), other OSes
            if desc.media_type not in mediatypes.MANIFEST_TYPES:
                continue
            out.setdefault(p.normalized(), desc)
        return out

    def platforms(self) -> List[Platform]:
        return list(self.entries)

    def digest_for(self, platform: Platform) -> str:
        return self.entries[platform].digest

    def annotations(self, platform: Optional[Platform] = None) -> Dict[str, str]:
        """org.opencontainers.image.base.* for the index, or for one platform's image."""
        digest = self.digest_for(platform) if platform is not None else self.digest
        return {BASE_NAME: self.name, BASE_DIGEST: digest}

    def identity(self, platform: Platform) -> Tuple[str, str]:
        return self.name, self.digest_for(platform)


    def contents(self) -> Tuple[Any, ...]:
        """Unknown here: a pulled base's own SBOM describes what it holds."""
        return ()
    def own_annotations(self, platform: Optional[Platform] = None) -> Dict[str, str]:
        """The image's own annotations: its index's (no platform), or one platform manifest's."""
        if platform is None:
            return dict(self._index_annotations)
        image = self.image_for(platform)
        with image.manifest.open() as f:
            return dict(parse_manifest(f.read(), self._where("a manifest")).annotations)

    def image_for(self, platform: Platform) -> Image:
        with self._lock:
            found = self._images.get(platform)
        if found is None:
            raw, media_type, _ = self._manifest(self.entries[platform].digest)
            found = self._image(raw, media_type)
            with self._lock:
                found = self._images.setdefault(platform, found)
        return found

    def _blob(self, desc: Descriptor) -> str:
        """The blob's file in the cache, downloaded (once, whoever asks first) if it is not there."""
        with self._blob_locks.get(desc.digest):
            if not self.cache.has(desc.digest, desc.size):
                self.repository.fetch_blob(desc.digest, desc.size, self.cache.path(desc.digest))
        return self.cache.path(desc.digest)

    def _image(self, raw: bytes, media_type: str) -> Image:
        manifest = parse_manifest(raw, self._where(f"manifest {digest_of(raw)[:19]}"))
        if manifest.config.size > MAX_CONFIG:
            raise MalformedInput(self._where(f"its config is {manifest.config.size} bytes; "
                                             f"more than the {MAX_CONFIG} pyko accepts"))
        with open(self._blob(manifest.config), "rb") as f:
            config_bytes = f.read(MAX_CONFIG + 1)
        config = parse_config(config_bytes, self._where("its config"))
        if len(config.diff_ids) != len(manifest.layers):
            raise PykoError(self._where(f"its config lists {len(config.diff_ids)} diff IDs "
                                        f"for {len(manifest.layers)} layers"))
        layers = []
        for desc, diff_id in zip(manifest.layers, config.diff_ids):
            relabelled = desc.with_(media_type=_OCI_LAYER.get(desc.media_type, desc.media_type),
                                    annotations=None)
            # Fetched only if something reads it: a push to the same registry mounts it instead.
            lazy = LazyBlob(relabelled, functools.partial(self._blob, desc))
            layers.append(Layer(lazy, diff_id, source=self.ref.name))
        config_blob = BytesBlob(mediatypes.OCI_CONFIG, config_bytes)
        return Image(BytesBlob(media_type, raw), config_blob, tuple(layers))


def open_remote_base(ref_text: str, registry_for: Callable[[str], Registry], cache_root: str) -> RemoteBase:
    """`registry_for(host)` gives the Registry client for a host, when needed."""
    try:
        ref = Reference.parse(ref_text)
    except UsageError as err:
        raise UsageError(f"base image: {err}") from None
    return RemoteBase(ref, lambda: registry_for(ref.registry), BlobCache(cache_root))
