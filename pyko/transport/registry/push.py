"""Pushing an index: blobs (in parallel), then image manifests, then the index, then tags.

First the index is looked up by digest: if the registry has it (a no-op
rebuild), only the tags that do not already point at it are moved. Otherwise
each distinct blob is handled once, in parallel: HEAD (skip what exists), else
a cross-repository mount when the layer came from a base in another repository
of the same registry, else a streamed upload. Manifests are pushed with the
exact bytes pyko hashed, children before the index, then the tags.
"""
from __future__ import annotations

import concurrent.futures as cf
import threading
from dataclasses import dataclass, field
from typing import Dict, Sequence, Tuple

from ...image import Blob, Index, Manifested
from ...reference import Reference
from .client import Registry
from .repository import Repository


@dataclass
class PushStats:
    uploaded: int = 0
    uploaded_bytes: int = 0
    mounted: int = 0
    existing: int = 0
    manifests: int = 0
    retried: int = 0
    tags_already: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)

    def summary(self) -> str:
        size = self.uploaded_bytes
        human = f"{size / (1 << 20):.1f} MiB" if size >= 1 << 20 else f"{size} bytes"
        text = (f"uploaded {self.uploaded} blob(s), {human}; mounted {self.mounted}; "
                f"{self.existing} already there; {self.manifests} manifest(s) written")
        if self.tags_already:
            text += f"; {self.tags_already} tag(s) already pointed at it"
        return text + (f"; {self.retried} request(s) retried" if self.retried else "")


def push_blob(repository: Repository, blob: Blob, mount_from: str, stats: PushStats) -> None:
    digest = blob.descriptor.digest
    with repository.registry.blob_lock(repository.name, digest):
        _push_blob(repository, blob, mount_from, stats)


def _push_blob(repository: Repository, blob: Blob, mount_from: str, stats: PushStats) -> None:
    digest = blob.descriptor.digest
    if repository.blob_exists(digest):
        stats.add(existing=1)
        return
    location = None
    if mount_from and mount_from != repository.name:
        location = repository.mount_blob(digest, mount_from)
        if location is None:
            stats.add(mounted=1)
            return
    repository.upload_blob(blob, location)
    stats.add(uploaded=1, uploaded_bytes=blob.descriptor.size)


def push_index(registry: Registry, target: Reference, index: Index, tags: Sequence[str], jobs: int = 4,
               alone: bool = False) -> PushStats:
    """Push `index` to `target`'s repository and tag it (`alone`: its one image, with no index, as ko
    pushes one platform). A layer that came from another repository of the same registry (a base's)
    is mounted from there."""
    repo = Repository(registry, target.repository)
    retries_before = registry.retries
    stats = PushStats()
    top = index.top(alone)
    if repo.head_manifest(top.digest, for_push=True) == top.digest:
        # The whole image is there (a no-op rebuild): nothing to check blob by blob.
        _move_tags(repo, top, tags, stats)
        stats.add(retried=registry.retries - retries_before)
        return stats
    blobs: Dict[str, Tuple[Blob, str]] = {}
    for image in index.images:
        blobs.setdefault(image.config.descriptor.digest, (image.config, ""))
        for layer in image.layers:
            blobs.setdefault(layer.descriptor.digest, (layer.blob, _mount_from(layer.source, target)))

    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(push_blob, repo, blob, source, stats) for blob, source in blobs.values()]
        for future in cf.as_completed(futures):
            future.result()
        manifests = [pool.submit(_push_manifest, repo, image.manifest, stats) for image in index.images]
        for future in cf.as_completed(manifests):
            future.result()
    if top is index:
        _push_manifest(repo, index.manifest, stats)
    _move_tags(repo, top, tags, stats)
    stats.add(retried=registry.retries - retries_before)
    return stats


def _move_tags(repo: Repository, top: Manifested, tags: Sequence[str], stats: PushStats) -> None:
    """Point each tag at `top`, skipping those that already point there (checked in parallel)."""
    with cf.ThreadPoolExecutor(max_workers=max(1, min(8, len(tags)))) as pool:
        current = list(pool.map(lambda tag: repo.head_manifest(tag, for_push=True), tags))
    raw = _read(top.manifest)
    for tag, digest in zip(tags, current):
        if digest == top.digest:
            stats.add(tags_already=1)
            continue
        repo.put_manifest(tag, raw, top.descriptor.media_type)


def _mount_from(source: str, target: Reference) -> str:
    """The repository to mount a layer from: only within the target's registry."""
    registry, _, repository = source.partition("/")
    return repository if source and registry == target.registry else ""


def _read(blob: Blob) -> bytes:
    with blob.open() as f:
        return f.read()


def _push_manifest(repository: Repository, manifest: Blob, stats: PushStats) -> None:
    digest = manifest.descriptor.digest
    if repository.head_manifest(digest, for_push=True) == digest:
        return  # already there, byte for byte
    repository.put_manifest(digest, _read(manifest), manifest.descriptor.media_type)
    stats.add(manifests=1)
