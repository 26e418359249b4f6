"""Descriptors and the blobs they describe.

A blob is anything that can be opened for its bytes and knows its descriptor
(media type, digest, size). Small JSON blobs live in memory; layers live in
files so that a big binary is never held in memory whole.
"""
from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Dict, Mapping, Optional, Protocol, Type

from ..errors import MalformedInput
from ..platforms import Platform
from ..util.jsontypes import JsonObject
from .digest import check_digest, digest_parts, sha256_digest

#: Sizes above this are refused in any descriptor (the spec's int64, minus margin).
MAX_BLOB_SIZE = 1 << 50


def canonical_json(obj: object) -> bytes:
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

    def __post_init__(self) -> None:
        # Every descriptor, ours or parsed, carries a digest that is safe as a path component.
        check_digest(self.digest, "descriptor")

    @property
    def hex(self) -> str:
        return digest_parts(self.digest)[1]

    @property
    def algorithm(self) -> str:
        return digest_parts(self.digest)[0]

    def to_json(self) -> JsonObject:
        out = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.platform is not None:
            out["platform"] = self.platform.to_oci()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_json(cls, obj: object, where: str = "descriptor") -> "Descriptor":
        """Parse a descriptor from outside pyko, checking every field's type and value."""
        if not isinstance(obj, dict):
            raise MalformedInput(f"{where}: a descriptor must be a JSON object, not {type(obj).__name__}")
        media_type, size = obj.get("mediaType"), obj.get("size")
        if not isinstance(media_type, str) or not media_type or len(media_type) > 255:
            raise MalformedInput(f"{where}: the descriptor has no valid mediaType")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_BLOB_SIZE:
            raise MalformedInput(f"{where}: the descriptor's size {str(size)[:30]!r} is not a valid size")
        plat = obj.get("platform")
        if plat is not None and not isinstance(plat, dict):
            raise MalformedInput(f"{where}: the descriptor's platform is not a JSON object")
        artifact_type = obj.get("artifactType", "")
        if not isinstance(artifact_type, str):
            raise MalformedInput(f"{where}: the descriptor's artifactType is not a string")
        return cls(
            media_type=media_type,
            digest=check_digest(obj.get("digest"), where),
            size=size,
            platform=Platform.from_oci(plat, where) if plat else None,
            annotations=string_map(obj.get("annotations"), f"{where}: annotations") or None,
            artifact_type=artifact_type,
        )

    def with_(self, **changes: Any) -> "Descriptor":
        return dataclasses.replace(self, **changes)


def string_map(value: object, where: str) -> Dict[str, str]:
    """A JSON object of string values (annotations, labels), checked; {} for null."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise MalformedInput(f"{where} must be an object of strings")
    return value


class Readable(Protocol):
    """What a blob opens to: a file, or a registry's body checked as it is read."""

    def read(self, n: int = -1, /) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> Readable: ...

    def __exit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException],
                 traceback: Optional[TracebackType], /) -> Optional[bool]: ...


class Blob(Protocol):
    @property
    def descriptor(self) -> Descriptor: ...

    def open(self) -> Readable: ...


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
class LazyBlob:
    """A blob whose bytes are fetched only when it is opened: a base layer that a push
    mounts, or that the registry already has, is never downloaded."""

    descriptor: Descriptor
    fetch: Callable[[], str] = field(compare=False, repr=False)   # makes it local; returns its file

    def open(self) -> BinaryIO:
        return open(self.fetch(), "rb")


@dataclass(frozen=True)
class Layer:
    """A layer blob plus its diff ID (the digest of the uncompressed tar)."""

    blob: Blob
    diff_id: str
    #: The history entry that goes with this layer in the image config.
    history: Mapping[str, object] = field(default_factory=dict, compare=False)
    #: Where the layer came from, "registry/repository", when it can be mounted
    #: from there (a base's layers); "" for layers pyko made.
    source: str = field(default="", compare=False)

    @property
    def descriptor(self) -> Descriptor:
        return self.blob.descriptor

if TYPE_CHECKING:   # each implementation checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    _bytes: Type[Blob] = BytesBlob
    _file: Type[Blob] = FileBlob
    _lazy: Type[Blob] = LazyBlob

