"""OCI image layouts: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.

Adding an image keeps everything already in the layout; an entry whose
`org.opencontainers.image.ref.name` we write again is replaced (a tag moves).

Atomicity: a new layout is assembled in a hidden sibling directory and renamed
into place; an existing one first gets its new blobs (each written to a temp
name and renamed), then a new index.json in a single rename. A build killed at
any point leaves either the old layout or the new one, never a broken one.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from typing import Iterable, List, Optional, Sequence, Tuple

from ..errors import OutputError
from ..image import Blob, Descriptor, Index, canonical_json
from ..image import mediatypes
from .atomic import check_directory_writable, copy_stream, write_bytes

LAYOUT_FILE = b'{"imageLayoutVersion":"1.0.0"}'
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


def is_layout(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "oci-layout")) and os.path.isfile(os.path.join(path, "index.json"))


def check_writable(path: str) -> None:
    """Fail early, before any compiling, if `path` cannot become a layout."""
    path = os.path.abspath(path)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise OutputError(f"--oci-layout {path} is a file; give a directory path")
        if os.listdir(path) and not is_layout(path):
            raise OutputError(f"--oci-layout {path} exists and is not an OCI layout; "
                              "give an empty or new directory, or an existing layout")
    check_directory_writable(path if os.path.exists(path) else os.path.dirname(path), f"--oci-layout {path}")


def _put_blobs(root: str, blobs: Iterable[Blob]) -> None:
    directory = os.path.join(root, "blobs", "sha256")
    os.makedirs(directory, exist_ok=True)
    for blob in blobs:
        desc = blob.descriptor
        final = os.path.join(directory, desc.hex)
        if os.path.isfile(final) and os.path.getsize(final) == desc.size:
            continue  # content-addressed: same name, same bytes
        with blob.open() as src:
            copy_stream(src, final)


def _read_index(root: str) -> dict:
    try:
        with open(os.path.join(root, "index.json"), "rb") as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise OutputError(f"{root}/index.json cannot be read ({err}); is it an OCI layout?") from None


def _entries(desc: Descriptor, names: Sequence[Tuple[str, str]]) -> List[dict]:
    out = []
    for ref_name, containerd_name in names:
        annotations = {REF_NAME: ref_name}
        if containerd_name:
            annotations[CONTAINERD_NAME] = containerd_name
        out.append(desc.with_(annotations=annotations).to_json())
    return out


def write_layout(path: str, index: Index, names: Sequence[Tuple[str, str]]) -> None:
    """Add `index` to the layout at `path`, once per (ref.name, containerd name)."""
    add_manifest(path, index.descriptor, index.all_blobs(), names)


def add_manifest(path: str, descriptor: Descriptor, blobs: Iterable[Blob],
                 names: Sequence[Tuple[str, str]]) -> None:
    """Add any manifest (with every blob it needs, itself included) under `names`."""
    path = os.path.abspath(path)
    try:
        if is_layout(path):
            _update(path, descriptor, blobs, names)
        else:
            _create(path, descriptor, blobs, names)
    except OSError as err:
        raise OutputError(f"cannot write OCI layout {path}: {err.strerror or err}") from None


def find(path: str, ref_name: str) -> Optional[Descriptor]:
    """The descriptor named `ref_name` in the layout's index.json, if any."""
    if not is_layout(path):
        return None
    for entry in _read_index(path).get("manifests", []):
        if (entry.get("annotations") or {}).get(REF_NAME) == ref_name:
            return Descriptor.from_json(entry)
    return None


def read_blob(path: str, digest: str) -> bytes:
    """A blob's bytes, checked against its name."""
    try:
        with open(os.path.join(path, "blobs", *digest.split(":", 1)), "rb") as f:
            data = f.read()
    except OSError as err:
        raise OutputError(f"OCI layout {path} lacks blob {digest} ({err.strerror})") from None
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise OutputError(f"OCI layout {path}: blob {digest} is corrupt")
    return data


def _index_json(existing: List[dict], descriptor: Descriptor, names) -> bytes:
    ours = {ref for ref, _ in names}
    kept = [m for m in existing if (m.get("annotations") or {}).get(REF_NAME) not in ours]
    doc = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
           "manifests": kept + _entries(descriptor, names)}
    return canonical_json(doc)


def _update(path: str, descriptor: Descriptor, blobs, names) -> None:
    current = _read_index(path)
    _put_blobs(path, blobs)
    write_bytes(os.path.join(path, "index.json"), _index_json(current.get("manifests", []), descriptor, names))


def _create(path: str, descriptor: Descriptor, blobs, names) -> None:
    parent = os.path.dirname(path)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        _put_blobs(tmp, blobs)
        write_bytes(os.path.join(tmp, "oci-layout"), LAYOUT_FILE)
        write_bytes(os.path.join(tmp, "index.json"), _index_json([], descriptor, names))
        os.chmod(tmp, 0o755)
        if os.path.isdir(path):
            os.rmdir(path)  # an empty directory the user made for us
        os.rename(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
