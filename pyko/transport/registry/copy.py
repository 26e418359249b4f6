"""Copying manifests, with everything they need, from one repository to another.

Within one registry every blob is mounted (no byte moves); across registries
each blob is streamed from the source's GET straight into the target's upload,
checked against its digest on the way, never held whole. Blobs the target
already has are skipped (HEAD), so a copy that was interrupted resumes cheaply.
Manifests are copied as the exact bytes the source holds, so digests are kept.
"""
from __future__ import annotations

from typing import Optional

from ...image import mediatypes
from ...image.documents import parse_index, parse_manifest
from .push import PushStats, push_blob
from .repository import Repository, RepositoryBlob

MAX_DEPTH = 2   # an index of manifests (a referrers index, say); nothing deeper is copied


def same_place(source: Repository, target: Repository) -> bool:
    return source.registry.registry == target.registry.registry and source.name == target.name


def copy_manifest(source: Repository, target: Repository, ident: str, stats: PushStats,
                  tag: Optional[str] = None, depth: int = 0) -> str:
    """Copy the manifest `ident` names (and its blobs, or its children) from `source` to
    `target`, under its digest and, if given, `tag`; returns its digest."""
    raw, media_type, digest = source.get_manifest(ident)
    if not same_place(source, target):
        if target.head_manifest(digest, for_push=True) != digest:
            _copy_content(source, target, raw, media_type, digest, stats, depth)
            target.put_manifest(digest, raw, media_type)
            stats.add(manifests=1)
    if tag is not None and target.head_manifest(tag, for_push=True) != digest:
        target.put_manifest(tag, raw, media_type)
    return digest


def _copy_content(source: Repository, target: Repository, raw: bytes, media_type: str, digest: str,
                  stats: PushStats, depth: int) -> None:
    where = f"{source.registry.registry}/{source.name}@{digest}"
    mount_from = source.name if source.registry.registry == target.registry.registry else ""
    if media_type in mediatypes.INDEX_TYPES:
        if depth >= MAX_DEPTH:
            return
        for child in parse_index(raw, where).manifests:
            copy_manifest(source, target, child.digest, stats, depth=depth + 1)
        return
    manifest = parse_manifest(raw, where)
    for desc in (manifest.config, *manifest.layers):
        push_blob(target, RepositoryBlob(source, desc), mount_from, stats)
