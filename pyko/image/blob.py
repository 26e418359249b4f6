"""Descriptors and the blobs they describe.

A blob is anything that can be opened for its bytes and knows its descriptor
(media type, digest, size). Small JSON blobs live in memory; layers live in
files so that a big binary is never held in memory whole.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import BinaryIO, Mapping, Optional, Protocol

from ..platforms import Platform


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> bytes:
    """The one serialisation pyko uses for manifests and configs.

    Compact and in insertion order, so the same object always gives the same
    bytes (and so the same digest).
    """
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Optional[Platform] = None
    annotations: Optional[Mapping[str, str]] = None
    artifact_type: str = ""

    @property
    def hex(self) -> str:
        return self.digest.split(":", 1)[1]

    def to_json(self) -> dict:
        out = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.platform is not None:
            out["platform"] = self.platform.to_oci()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_json(cls, obj: dict) -> "Descriptor":
        plat = obj.get("platform")
        return cls(
            media_type=obj["mediaType"],
            digest=obj["digest"],
            size=int(obj["size"]),
            platform=Platform.from_oci(plat) if plat else None,
            annotations=obj.get("annotations") or None,
            artifact_type=obj.get("artifactType", ""),
        )

    def with_(self, **changes) -> "Descriptor":
        fields = dict(self.__dict__)
        fields.update(changes)
        return Descriptor(**fields)


class Blob(Protocol):
    @property
    def descriptor(self) -> Descriptor: ...

    def open(self) -> BinaryIO: ...


@dataclass(frozen=True)
class BytesBlob:
    media_type: str
    data: bytes

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, sha256_digest(self.data), len(self.data))

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


@dataclass(frozen=True)
class FileBlob:
    descriptor: Descriptor
    path: str

    def open(self) -> BinaryIO:
        return open(self.path, "rb")


@dataclass(frozen=True)
class Layer:
    """A layer blob plus its diff ID (the digest of the uncompressed tar)."""

    blob: Blob
    diff_id: str
    #: The history entry that goes with this layer in the image config.
    history: Mapping[str, object] = field(default_factory=dict, compare=False)

    @property
    def descriptor(self) -> Descriptor:
        return self.blob.descriptor
