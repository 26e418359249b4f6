"""Go's build cache kept in a registry, as an OCI artifact beside the images (--cache-from/--cache-to).

The artifact is one image manifest (artifactType application/vnd.pyko.go-build-cache.v1) whose
config names the Go toolchain that wrote it and whose layers are tar+gzip archives of cache
entries (util/gocache_dir.py's a/<action> and o/<output> files). A run costs one manifest GET,
one config GET and one GET per layer; saving costs one new layer (the entries this build added),
a config and a manifest.

Expiry is by layer: a save keeps the layers this build used at least once and drops the others,
so entries no build uses any more leave with their layer; past MAX_LAYERS, everything the build
used is repacked into one layer.

Trust: a layer is unpacked only after its digest matched the manifest's, and an entry is served
to Go only if its bytes hash to its output id; but which output an action maps to is whatever the
layer says. Whoever can push to the cache repository can therefore influence builds that read it:
give untrusted pipelines --cache-from only, and --cache-to only to trusted ones.
"""
from __future__ import annotations

import concurrent.futures as cf
import gzip
import os
import shutil
import tarfile
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Set, Tuple

from ..errors import MalformedInput, NotFound
from ..image.blob import BytesBlob, Descriptor, FileBlob, canonical_json
from ..image.digest import file_digest
from ..image.documents import load_json, parse_manifest
from ..util.gocache_dir import ENTRY, action_path, output_path, read_action
from .registry.repository import Repository

ARTIFACT = "application/vnd.pyko.go-build-cache.v1"
CONFIG_TYPE = "application/vnd.pyko.go-build-cache.config.v1+json"
LAYER_TYPE = "application/vnd.pyko.go-build-cache.layer.v1.tar+gzip"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
MAX_LAYERS = 8
MAX_ENTRY = 1 << 31            # one output (a linked binary, an archive) of at most 2 GiB
MAX_UNPACKED = 16 << 30        # all of a layer's entries


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


def pull(repository: Repository, tag: str, root: str, go_version: str, scratch: str,
         jobs: int = 4) -> Tuple[PulledCache, str]:
    """Fill `root` from the artifact at `tag`: (what was pulled, a line for the user)."""
    where = f"{repository.registry.registry}/{repository.name}:{tag}"
    try:
        data, _, _ = repository.get_manifest(tag)
    except NotFound:
        return PulledCache(), f"go cache: nothing at {where} yet; this build fills it"
    manifest = parse_manifest(data, where)
    if manifest.config.media_type != CONFIG_TYPE or any(d.media_type != LAYER_TYPE for d in manifest.layers):
        raise MalformedInput(f"{where} is not a pyko Go build cache")
    config = load_json(repository.read_blob(manifest.config.digest, manifest.config.size), f"{where}: config")
    written_by = config.get("goVersion")
    if written_by != go_version:
        return PulledCache(), (f"go cache: {where} was written by {written_by!r}, this build uses {go_version}: "
                               "not used (it would not match), and replaced when saved")
    os.makedirs(scratch, exist_ok=True)

    def one(descriptor: Descriptor) -> PulledLayer:
        path = os.path.join(scratch, descriptor.hex)
        repository.fetch_blob(descriptor.digest, descriptor.size, path)   # digest checked
        try:
            return PulledLayer(descriptor, frozenset(unpack(path, root, f"{where} layer {descriptor.hex[:12]}")))
        finally:
            os.remove(path)

    with cf.ThreadPoolExecutor(max(1, jobs)) as pool:
        layers = list(pool.map(one, manifest.layers))
    pulled = PulledCache(layers)
    size = sum(d.size for d in manifest.layers)
    return pulled, (f"go cache: {len(pulled.actions)} entries from {where} "
                    f"({len(layers)} layer(s), {size / 1e6:.1f} MB)")


def unpack(archive: str, root: str, where: str) -> Iterable[str]:
    """Write a layer's entries into `root`; returns the action ids. Only regular files named
    a/<hex> or o/<hex> are accepted: anything else makes the whole layer malformed."""
    actions, total = [], 0
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            name = member.name[2:] if member.name.startswith("./") else member.name
            if not member.isreg() or not ENTRY.match(name) or member.size > MAX_ENTRY:
                raise MalformedInput(f"{where}: {name[:80]!r} is not a cache entry")
            total += member.size
            if total > MAX_UNPACKED:
                raise MalformedInput(f"{where}: more than {MAX_UNPACKED >> 30} GiB of entries")
            kind, ident = name.split("/")
            path = action_path(root, ident) if kind == "a" else output_path(root, ident)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            source = tar.extractfile(member)
            temporary = f"{path}.pull.tmp"
            with open(temporary, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            os.replace(temporary, path)
            if kind == "a":
                actions.append(ident)
    return actions


def used_actions(root: str) -> Tuple[Set[str], Set[str]]:
    """(actions served, actions stored) by every cacheprog process of this build."""
    hits, puts = set(), set()
    directory = os.path.join(root, "used")
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        with open(os.path.join(directory, name)) as f:
            for line in f:
                kind, _, action = line.strip().partition(" ")
                (hits if kind == "hit" else puts).add(action)
    return hits, puts


def save(repository: Repository, tag: str, root: str, go_version: str, pulled: PulledCache, scratch: str,
         same_repository: bool = True) -> str:
    """Push the cache this build leaves: the pulled layers it used, plus one layer of what it added
    (or everything it used, repacked, past MAX_LAYERS). Returns a line for the user."""
    hits, puts = used_actions(root)
    used = hits | puts
    new = sorted(puts - pulled.actions)
    kept = [layer for layer in pulled.layers if layer.actions & used]
    if not new and len(kept) == len(pulled.layers):
        return f"go cache: unchanged ({len(used)} entries used)"
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
    repository.put_manifest(tag, canonical_json(manifest), MANIFEST_TYPE)
    return (f"go cache: saved to {repository.registry.registry}/{repository.name}:{tag} "
            f"({len(new)} new entries, {len(layers)} layer(s))")


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
