"""Images and indexes: a manifest's bytes plus the blobs they point at.

Both are immutable. Their manifests are serialised once, when they are made,
and never re-serialised: the digest is of exactly those bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..platforms import Platform
from ..util.jsontypes import JsonObject
from . import mediatypes
from .blob import Blob, BytesBlob, Descriptor, Layer, canonical_json


class _Manifested:
    """What images and indexes share: they are named by their manifest's digest."""

    manifest: Blob

    @property
    def descriptor(self) -> Descriptor:
        return self.manifest.descriptor

    @property
    def digest(self) -> str:
        return self.descriptor.digest


@dataclass(frozen=True)
class Image(_Manifested):
    manifest: Blob
    config: Blob
    layers: Tuple[Layer, ...]

    @classmethod
    def build(cls, config: JsonObject, layers: Sequence[Layer],
              annotations: Optional[Mapping[str, str]] = None) -> "Image":
        """Make an OCI image from a config object and its layers."""
        config_blob = BytesBlob(mediatypes.OCI_CONFIG, canonical_json(config))
        manifest = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": config_blob.descriptor.to_json(),
            "layers": [layer.descriptor.to_json() for layer in layers],
        }
        if annotations:
            manifest["annotations"] = dict(sorted(annotations.items()))
        return cls(BytesBlob(mediatypes.OCI_MANIFEST, canonical_json(manifest)), config_blob, tuple(layers))

    def config_json(self) -> JsonObject:
        with self.config.open() as f:
            config: JsonObject = json.load(f)
        return config

    @property
    def platform(self) -> Platform:
        return Platform.from_oci(self.config_json())

    def blobs(self) -> Iterable[Blob]:
        """Every blob this image needs, config first (no manifest)."""
        yield self.config
        for layer in self.layers:
            yield layer.blob


@dataclass(frozen=True)
class Index(_Manifested):
    manifest: Blob
    images: Tuple[Image, ...]

    @classmethod
    def build(cls, images: Sequence[Image],
              annotations: Optional[Mapping[str, str]] = None) -> "Index":
        """Make an OCI index; each entry's platform comes from its config."""
        manifest = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_INDEX,
            "manifests": [img.descriptor.with_(platform=img.platform).to_json() for img in images],
        }
        if annotations:
            manifest["annotations"] = dict(sorted(annotations.items()))
        return cls(BytesBlob(mediatypes.OCI_INDEX, canonical_json(manifest)), tuple(images))

    def all_blobs(self) -> Iterable[Blob]:
        """Every blob reachable from this index, each once, children first."""
        yield from _each_once(b for img in self.images for b in (*img.blobs(), img.manifest))
        yield self.manifest

    def platforms(self) -> List[Platform]:
        return [img.platform for img in self.images]

    def top(self, alone: bool = False) -> "Manifested":
        """What a name points at: the index, or (`alone`, ko's way with one platform) its one image."""
        if alone and len(self.images) == 1:
            return self.images[0]
        return self

    def blobs_under(self, top: "Manifested") -> Iterable[Blob]:
        """Every blob `top` (this index or one of its images) needs, its own manifest last."""
        if top is self:
            yield from self.all_blobs()
            return
        assert isinstance(top, Image)
        yield from _each_once((*top.blobs(), top.manifest))

    def image_for(self, platform: Platform) -> Image:
        for img in self.images:
            if img.platform == platform:
                return img
        raise KeyError(str(platform))


def _each_once(blobs: Iterable[Blob]) -> Iterable[Blob]:
    """`blobs` in order, a digest seen before skipped (two images may share layers)."""
    seen = set()
    for blob in blobs:
        if blob.descriptor.digest not in seen:
            seen.add(blob.descriptor.digest)
            yield blob


#: An image or an index: what a tag or a layout entry names.
Manifested = Union[Image, Index]
