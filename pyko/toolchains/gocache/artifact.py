"""Go's build cache kept in a registry, as an OCI artifact beside the images (--cache-from/--cache-to).

The artifact is one image manifest (artifactType application/vnd.pyko.go-build-cache.v1) whose
config names the Go toolchain that wrote it and whose layers are tar+gzip archives of cache
entries (layout.py's a/<action> and o/<output> files). A run costs one manifest GET,
one config GET and one GET per layer; saving costs one new layer (the entries this build added),
a config and a manifest.

Expiry is by layer: a save keeps the layers this build used at least once and drops the others,
so entries no build uses any more leave with their layer; past MAX_LAYERS, everything the build
used is repacked into one layer.

Trust: which output an action maps to is whatever the cache says, so whoever can push to the cache
repository could decide what a build links. commands/go_build_cache.py therefore verifies the
manifest's signature against the build's cache policy before this module fetches a layer; here,
every layer's digest is checked against that manifest, every layer is unpacked (bounded, entries
checked) into a staging directory, and only a cache that arrived whole is used; an entry is served
to Go only if its bytes hash to its output id.
"""
from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tarfile
import threading
import zlib
from dataclasses import dataclass, field
from typing import IO, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from ...errors import MalformedInput, NotFound, clean_text
from ...image.blob import BytesBlob, Descriptor, FileBlob, canonical_json
from ...image.digest import file_digest
from ...image.documents import load_json, parse_manifest
from ...transport.registry.repository import Repository
from .layout import (
    ENTRY,
    MAX_ACTION_FILE,
    MAX_OUTPUT,
    action_path,
    output_path,
    parse_action,
    read_action,
    used_actions,
)

ARTIFACT = "application/vnd.pyko.go-build-cache.v1"
CONFIG_TYPE = "application/vnd.pyko.go-build-cache.config.v1+json"
LAYER_TYPE = "application/vnd.pyko.go-build-cache.layer.v1.tar+gzip"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
MAX_LAYERS = 8
MAX_ENTRY = MAX_OUTPUT         # one output (a linked binary, an archive) of at most 2 GiB
#: What pyko reads of a cache, all checked before a byte of it is used: a save writes at most
#: MAX_LAYERS layers, so more is not a cache pyko wrote; Go's compiled code compresses about 3:1,
#: so a layer unpacking to more than MAX_RATIO times its size is a bomb, not a cache.
MAX_PULLED_LAYERS = 4 * MAX_LAYERS
MAX_LAYER_BYTES = 2 << 30
MAX_CACHE_BYTES = 4 << 30
MAX_UNPACKED = 16 << 30        # all the entries of all the layers
MAX_RATIO = 64


@dataclass(frozen=True)
class PulledLayer:
    descriptor: Descriptor
    actions: FrozenSet[str]     # the action ids (hex) it holds


@dataclass
class PulledCache:
    layers: List[PulledLayer] = field(default_factory=list)

    @property
    def actions(self) -> Set[str]:
        return {a for layer in self.layers for a in layer.actions}


@dataclass(frozen=True)
class CacheManifest:
    """The cache artifact's manifest as received: its bytes and their digest, which is what a
    signature names (and what the provenance records)."""

    data: bytes
    digest: str
    where: str                  # registry/repository:tag, for messages


def read_manifest(repository: Repository, tag: str) -> Optional[CacheManifest]:
    """The manifest at `tag`, or None when there is none yet."""
    where = f"{repository.registry.registry}/{repository.name}:{tag}"
    try:
        data, _, digest = repository.get_manifest(tag)
    except NotFound:
        return None
    return CacheManifest(data, digest, where)


def pull(repository: Repository, manifest: CacheManifest, staging: str, go_version: str, scratch: str,
         jobs: int = 4, deadline: Optional[float] = None) -> Tuple[PulledCache, str]:
    """Fill the empty directory `staging` from the artifact `manifest` describes: every layer is
    downloaded (its digest checked against the manifest) and unpacked, or none is; any fault raises
    and leaves `staging` to be thrown away. Returns (what was pulled, a line for the user)."""
    where = manifest.where
    layers = _checked_layers(manifest)
    config = load_json(repository.read_blob(layers[0].digest, layers[0].size), f"{where}: config")
    written_by = config.get("goVersion")
    if written_by != go_version:
        shown = clean_text(written_by, 60) if isinstance(written_by, str) else "no Go version"
        return PulledCache(), (f"go cache: {where} was written by {shown!r}, this build uses {go_version}: "
                               "not used (it would not match), and replaced when saved")
    os.makedirs(scratch, exist_ok=True)

    def fetch(descriptor: Descriptor) -> str:
        path = os.path.join(scratch, descriptor.hex)
        repository.fetch_blob(descriptor.digest, descriptor.size, path, deadline)   # digest checked
        return path

    paths = in_daemon_threads(fetch, layers[1:], jobs)
    budget = [MAX_UNPACKED]
    pulled = PulledCache([])
    try:
        for descriptor, path in zip(layers[1:], paths):
            actions = unpack(path, staging, f"{where} layer {descriptor.hex[:12]}", descriptor.size, budget)
            pulled.layers.append(PulledLayer(descriptor, frozenset(actions)))
    finally:
        for path in paths:
            with contextlib.suppress(OSError):
                os.remove(path)
    size = sum(d.size for d in layers[1:])
    return pulled, (f"go cache: {len(pulled.actions)} entries from {where} "
                    f"({len(pulled.layers)} layer(s), {size / 1e6:.1f} MB)")


def _checked_layers(manifest: CacheManifest) -> List[Descriptor]:
    """[config, layer, ...] of a cache manifest, refused unless each is what a cache holds, each layer
    is listed once, and the sizes are within bounds: checked before anything is downloaded."""
    where = manifest.where
    doc = parse_manifest(manifest.data, where, max_layers=MAX_PULLED_LAYERS)
    if doc.config.media_type != CONFIG_TYPE or any(d.media_type != LAYER_TYPE for d in doc.layers):
        raise MalformedInput(f"{where} is not a pyko Go build cache")
    if len({d.digest for d in doc.layers}) != len(doc.layers):
        raise MalformedInput(f"{where} lists one layer more than once")
    if any(d.size > MAX_LAYER_BYTES for d in doc.layers) or sum(d.size for d in doc.layers) > MAX_CACHE_BYTES:
        raise MalformedInput(f"{where}: its layers are larger than a Go cache pyko reads "
                             f"({MAX_LAYER_BYTES >> 30} GiB each, {MAX_CACHE_BYTES >> 30} GiB in all)")
    return [doc.config, *doc.layers]


def in_daemon_threads(work: Callable[[Descriptor], str], items: Sequence[Descriptor], jobs: int) -> List[str]:
    """work(item) for each item, at most `jobs` at once, in daemon threads (a download that a
    hostile registry stretches out never holds up pyko's exit); the first error is raised."""
    results: List[Optional[str]] = [None] * len(items)
    errors: List[BaseException] = []
    slots = threading.Semaphore(max(1, jobs))

    def one(n: int, item: Descriptor) -> None:
        with slots:
            if errors:
                return
            try:
                results[n] = work(item)
            except BaseException as err:  # noqa: BLE001 - handed to the caller below
                errors.append(err)

    threads = [threading.Thread(target=one, args=(n, item), daemon=True) for n, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [path for path in results if path is not None]


def unpack(archive: str, root: str, where: str, compressed: int = 0, budget: Optional[List[int]] = None
           ) -> List[str]:
    """Write a layer's entries into `root`; returns the action ids. Only regular files named
    a/<hex> (a well-formed action entry) or o/<hex> are accepted, within MAX_RATIO times the
    layer's compressed size and what is left of `budget` (bytes for all layers): anything else,
    a damaged or truncated archive included, makes the whole layer malformed."""
    budget = budget if budget is not None else [MAX_UNPACKED]
    limit = min(budget[0], MAX_RATIO * compressed + (1 << 20)) if compressed else budget[0]
    actions, total = [], 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name[2:] if member.name.startswith("./") else member.name
                if not member.isreg() or not ENTRY.match(name) or member.size > MAX_ENTRY:
                    raise MalformedInput(f"{where}: {clean_text(name, 80)!r} is not a cache entry")
                total += member.size
                if total > limit:
                    raise MalformedInput(f"{where}: unpacks to more than {limit} bytes (a compression bomb?)")
                kind, ident = name.split("/")
                source = _member_file(tar, member, where)
                if kind == "a":
                    if parse_action(source.read(MAX_ACTION_FILE + 1)) is None:
                        raise MalformedInput(f"{where}: action entry {ident[:12]} is malformed")
                    source = _member_file(tar, member, where)
                    actions.append(ident)
                path = action_path(root, ident) if kind == "a" else output_path(root, ident)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(f"{path}.pull.tmp", "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                os.replace(f"{path}.pull.tmp", path)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise MalformedInput(f"{where}: not a readable tar+gzip layer ({type(err).__name__})") from None
    budget[0] -= total
    return actions


def _member_file(tar: tarfile.TarFile, member: tarfile.TarInfo, where: str) -> IO[bytes]:
    source = tar.extractfile(member)
    if source is None:   # only regular files are let through before this, so never; but say so if it is
        raise MalformedInput(f"{where}: {member.name[:80]} is not a regular file")
    return source


def adopt(staging: str, root: str) -> None:
    """Move a fully pulled cache from `staging` into the (empty) directory Go's server reads."""
    for kind in ("a", "o"):
        source = os.path.join(staging, kind)
        if os.path.isdir(source):
            os.replace(source, os.path.join(root, kind))


def save(repository: Repository, tag: str, root: str, go_version: str, pulled: PulledCache, scratch: str,
         same_repository: bool = True) -> Tuple[str, Optional[Descriptor]]:
    """Push the cache this build leaves: the pulled layers it used, plus one layer of what it added
    (or everything it used, repacked, past MAX_LAYERS). Returns (a line for the user, the manifest
    pushed, or None when nothing changed)."""
    hits, puts = used_actions(root)
    used = hits | puts
    new = sorted(puts - pulled.actions)
    kept = [layer for layer in pulled.layers if layer.actions & used]
    if not new and len(kept) == len(pulled.layers):
        return f"go cache: unchanged ({len(used)} entries used)", None
    os.makedirs(scratch, exist_ok=True)
    layers = [layer.descriptor for layer in kept]
    if not same_repository or (new and len(kept) + 1 > MAX_LAYERS):
        # Repacked: the layers' unused entries expire (and another repository has none of the blobs).
        layers, new = [], sorted(used)
    if new:
        layer = pack(root, new, os.path.join(scratch, "layer.tar.gz"))
        if not repository.blob_exists(layer.descriptor.digest):
            repository.upload_blob(layer)
        layers.append(layer.descriptor)
    config = BytesBlob(CONFIG_TYPE, canonical_json({"goVersion": go_version}))
    repository.upload_blob(config)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": ARTIFACT,
                "config": config.descriptor.to_json(), "layers": [d.to_json() for d in layers]}
    pushed = BytesBlob(MANIFEST_TYPE, canonical_json(manifest))
    repository.put_manifest(tag, pushed.data, MANIFEST_TYPE)
    return (f"go cache: saved to {repository.registry.registry}/{repository.name}:{tag} "
            f"({len(new)} new entries, {len(layers)} layer(s))"), pushed.descriptor


def pack(root: str, actions: Iterable[str], dest: str) -> FileBlob:
    """A reproducible tar+gzip of the actions' entries and their outputs (sorted, no times or owners)."""
    names: Dict[str, str] = {}
    for action in actions:
        found = read_action(root, action)
        if found is None or not os.path.exists(output_path(root, found[0])):
            continue
        names[f"a/{action}"] = action_path(root, action)
        names[f"o/{found[0]}"] = output_path(root, found[0])
    # No file name or time in the gzip header; level 1: entries are mostly compiled code, and the
    # seconds saved on a fresh runner are the point.
    with open(dest, "wb") as raw, \
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=1, mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(names):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = os.path.getsize(names[name]), 0o644, 0
            with open(names[name], "rb") as f:
                tar.addfile(info, f)
    return FileBlob(Descriptor(LAYER_TYPE, file_digest(dest), os.path.getsize(dest)), dest)
