"""`docker load` tarballs, in the combined form modern `docker save` writes.

The archive is an OCI layout (oci-layout, index.json, blobs/sha256/...) plus
docker's manifest.json. Docker's containerd image store imports the whole
multi-platform index from index.json; the classic store reads manifest.json,
which can hold only one image per tag, so it names one platform (the host's
when it was built, else the first). The archive is itself reproducible:
sorted entries, mtime 0, root owner. It is written to a temp file and renamed.
"""
from __future__ import annotations

import io
import os
import tarfile
from typing import Sequence

from ..errors import OutputError
from ..image import Image, Index, Manifested, canonical_json
from ..image.mediatypes import OCI_INDEX
from ..platforms import Platform
from ..util.atomic import atomic_file, check_directory_writable
from .oci_layout import CONTAINERD_NAME, LAYOUT_FILE, REF_NAME, blob_name


def check_writable(path: str) -> None:
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise OutputError(f"--tarball {path} is a directory; give a file path such as app.tar")
    check_directory_writable(os.path.dirname(path), f"--tarball {path}")


def pick_image(index: Index, preferred: Platform) -> Image:
    for image in index.images:
        if image.platform == preferred:
            return image
    return index.images[0]


def docker_manifest(image: Image, repo_tags: Sequence[str]) -> bytes:
    entry = {
        "Config": blob_name(image.config.descriptor.digest),
        "RepoTags": list(repo_tags),
        "Layers": [blob_name(layer.descriptor.digest) for layer in image.layers],
    }
    return canonical_json([entry])


def _index_json(top: Manifested, tags: Sequence[str], full_names: Sequence[str]) -> bytes:
    # moby's convention: ref.name is the bare tag, the containerd name is the full reference.
    manifests = [
        top.descriptor.with_(annotations={CONTAINERD_NAME: full, REF_NAME: tag}).to_json()
        for tag, full in zip(tags, full_names)
    ]
    return canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})


def _info(name: str, size: int = 0, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.size = size
    return info


def write_tarball(path: str, index: Index, repo_tags: Sequence[str], full_names: Sequence[str],
                  preferred: Platform, alone: bool = False) -> Image:
    """Write the archive; returns the image that manifest.json names. `alone`: index.json names
    the one image itself, not the index (ko's way with one platform)."""
    image = pick_image(index, preferred)
    top = index.top(alone)
    small = {
        "index.json": _index_json(top, [t.rsplit(":", 1)[1] for t in repo_tags], full_names),
        "manifest.json": docker_manifest(image, repo_tags),
        "oci-layout": LAYOUT_FILE,
    }
    blobs = sorted(index.blobs_under(top), key=lambda b: b.descriptor.hex)
    try:
        with atomic_file(path) as out, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.addfile(_info("blobs", directory=True))
            tar.addfile(_info("blobs/sha256", directory=True))
            for blob in blobs:
                with blob.open() as src:
                    tar.addfile(_info(blob_name(blob.descriptor.digest), blob.descriptor.size), src)
            for name, data in small.items():
                tar.addfile(_info(name, len(data)), io.BytesIO(data))
    except OSError as err:
        raise OutputError(f"cannot write --tarball {path}: {err.strerror or err}") from None
    return image
