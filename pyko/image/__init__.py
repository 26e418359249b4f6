"""The pure OCI image model: blobs, layers, images, indexes.

Nothing here knows about toolchains, the network or the file formats images
are stored in; those live in pyko.toolchains and pyko.transport.
"""
from .blob import Blob, BytesBlob, Descriptor, FileBlob, Layer, LazyBlob, canonical_json
from .digest import sha256_digest
from .image import Image, Index, Manifested

__all__ = [
    "Blob", "BytesBlob", "Descriptor", "FileBlob", "LazyBlob", "Layer", "Image", "Index", "Manifested",
    "canonical_json", "sha256_digest",
]
