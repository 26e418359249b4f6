"""OCI image layouts: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.

Adding an image keeps everything already in the layout; an entry whose
`org.opencontainers.image.ref.name` we write again is replaced (a tag moves).

Atomicity: a new layout is assembled in a hidden sibling directory and renamed
into place; an existing one first gets its new blobs (each written to a temp
name and renamed), then a new index.json in a single rename. A build killed at
any point leaves either the old layout or the new one, never a broken one; the
next write removes what the killed one left behind. Writers take turns (an
flock), so concurrent builds into one layout each add their entry.
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import stat
import tempfile
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from ..errors import MalformedInput, OutputError, UsageError
from ..image import Blob, Descriptor, Index, canonical_json, mediatypes
from ..image.digest import digest_of, digest_parts
from ..image.documents import load_json
from ..util.atomic import check_directory_writable, copy_stream, default_mode, write_bytes
from ..util.jsontypes import JsonObject

#: index.json and blobs read into memory (manifests, signatures) are capped at this.
MAX_READ = 16 << 20

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
            raise UsageError(f"--oci-layout {path} is a file; give a directory path")
        if os.listdir(path) and not is_layout(path):
            raise UsageError(f"--oci-layout {path} exists and is not an OCI layout; "
                              "give an empty or new directory, or an existing layout")
        refuse_linked_directories(path)
    check_directory_writable(path if os.path.exists(path) else os.path.dirname(path), f"--oci-layout {path}")


def refuse_linked_directories(path: str) -> None:
    """pyko writes and deletes only inside the layout it was given: a `blobs/` or `blobs/<alg>/`
    that is a symlink (to anywhere) would take its writes, and its debris removal, elsewhere."""
    blobs = os.path.join(path, "blobs")
    inside = [blobs]
    if os.path.isdir(blobs) and not os.path.islink(blobs):
        inside += [os.path.join(blobs, name) for name in sorted(os.listdir(blobs))]
    for directory in inside:
        if os.path.islink(directory):
            raise OutputError(f"OCI layout {path}: {os.path.relpath(directory, path)} is a symlink; pyko writes "
                              "only inside the layout: make it a directory, or give another layout")


def blob_name(digest: str) -> str:
    """`blobs/<alg>/<hex>`, from a validated digest only."""
    return "/".join(("blobs", *digest_parts(digest)))


def blob_path(root: str, digest: str) -> str:
    """The file of a blob in the layout at `root`."""
    return os.path.join(root, *blob_name(digest).split("/"))


def _put_blobs(root: str, blobs: Iterable[Blob]) -> None:
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    for blob in blobs:
        desc = blob.descriptor
        final = blob_path(root, desc.digest)
        if os.path.isfile(final) and os.path.getsize(final) == desc.size:
            continue  # content-addressed: same name, same bytes
        os.makedirs(os.path.dirname(final), exist_ok=True)
        with blob.open() as src:
            copy_stream(src, final)


def _read_regular(path: str, limit: int, what: str) -> bytes:
    """At most `limit` bytes of a regular file: never a FIFO, a device or a directory."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise OutputError(f"{what} cannot be read ({err.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise MalformedInput(f"{what} is not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise MalformedInput(f"{what} is larger than the {limit} bytes pyko reads")
    return data


def _read_index(root: str) -> JsonObject:
    where = f"{root}/index.json"
    return load_json(_read_regular(os.path.join(root, "index.json"), MAX_READ, where), where)


def _index_entries(root: str) -> List[JsonObject]:
    entries = _read_index(root).get("manifests") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise MalformedInput(f"{root}/index.json: manifests must be a list of objects")
    return entries


def _entries(desc: Descriptor, names: Sequence[Tuple[str, str]]) -> List[JsonObject]:
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
        with _locked(os.path.dirname(path)):
            if os.path.isdir(path):
                refuse_linked_directories(path)
            _remove_debris(path)
            if is_layout(path):
                _update(path, descriptor, blobs, names)
            else:
                _create(path, descriptor, blobs, names)
    except OSError as err:
        raise OutputError(f"cannot write OCI layout {path}: {err.strerror or err}") from None


@contextlib.contextmanager
def _locked(parent: str) -> Iterator[None]:
    """An exclusive flock on the layout's parent directory for the whole write:
    two pyko runs writing one layout take turns, so both entries land (and no
    lock file is left behind)."""
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_debris(path: str) -> None:
    """Temp files and directories of writes that were killed (SIGKILL, power loss).
    Called under the lock, so no live writer owns any of them."""
    parent, name = os.path.dirname(path), os.path.basename(path)
    candidates = glob.glob(os.path.join(glob.escape(parent), f".{glob.escape(name)}.*.tmp"))
    if is_layout(path):
        candidates += glob.glob(os.path.join(glob.escape(path), ".*.tmp"))
        candidates += glob.glob(os.path.join(glob.escape(path), "blobs", "*", ".*.tmp"))
    for leftover in candidates:
        if os.path.isdir(leftover) and not os.path.islink(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(leftover)


def find(path: str, ref_name: str) -> Optional[Descriptor]:
    """The descriptor named `ref_name` in the layout's index.json, if any."""
    if not is_layout(path):
        return None
    for entry in _index_entries(path):
        annotations = entry.get("annotations")
        if isinstance(annotations, dict) and annotations.get(REF_NAME) == ref_name:
            return Descriptor.from_json(entry, f"{path}/index.json: {ref_name}")
    return None


def read_blob(path: str, digest: str, size: Optional[int] = None) -> bytes:
    """A blob's bytes (at most `size`, or MAX_READ), checked against its name."""
    what = f"OCI layout {path}: blob {digest[:19]}"
    name = blob_path(path, digest)
    if not os.path.lexists(name):
        raise OutputError(f"OCI layout {path} lacks blob {digest}")
    data = _read_regular(name, MAX_READ if size is None else min(size, MAX_READ), what)
    if digest_of(data, digest.split(":", 1)[0]) != digest or (size is not None and len(data) != size):
        raise OutputError(f"OCI layout {path}: blob {digest} is corrupt")
    return data


def _index_json(existing: List[JsonObject], descriptor: Descriptor, names: Sequence[Tuple[str, str]]) -> bytes:
    ours = {ref for ref, _ in names}
    kept = [m for m in existing if not (isinstance(m.get("annotations"), dict)
                                        and m["annotations"].get(REF_NAME) in ours)]
    doc = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
           "manifests": kept + _entries(descriptor, names)}
    return canonical_json(doc)


def _update(path: str, descriptor: Descriptor, blobs: Iterable[Blob], names: Sequence[Tuple[str, str]]) -> None:
    current = _index_entries(path)
    _put_blobs(path, blobs)
    write_bytes(os.path.join(path, "index.json"), _index_json(current, descriptor, names))


def _create(path: str, descriptor: Descriptor, blobs: Iterable[Blob], names: Sequence[Tuple[str, str]]) -> None:
    parent = os.path.dirname(path)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        _put_blobs(tmp, blobs)
        write_bytes(os.path.join(tmp, "oci-layout"), LAYOUT_FILE)
        write_bytes(os.path.join(tmp, "index.json"), _index_json([], descriptor, names))
        os.chmod(tmp, default_mode(directory=True))
        if os.path.isdir(path):
            os.rmdir(path)  # an empty directory the user made for us
        os.rename(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
