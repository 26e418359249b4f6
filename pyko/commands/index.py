"""`pyko index create`: one multi-platform index from images and indexes already in a registry.

For CI that builds each platform on its own runner (`pyko build --platform X
--push-by-digest`) and publishes one index at the end. Platforms are read from
each image's config; two sources offering one platform are an error unless
--prefer names the one to take. Nothing is rebuilt or re-compressed: within a
registry every blob is mounted, across registries streamed (transport/registry/copy.py).

The index is written exactly as `pyko build` writes one: entries in pyko's
platform order, each `{mediaType, digest, size, platform}`, the annotations the
sources' indexes agree on, sorted. So per-runner builds of one source with one
SOURCE_DATE_EPOCH merge into the very index (the same digest) that one
multi-platform build of it gives.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import UsageError, clean_text
from ..image import BytesBlob, Descriptor, canonical_json, mediatypes
from ..image.documents import parse_config, parse_index, parse_manifest
from ..platforms import Platform, platform_order
from ..reference import Reference, shown_tag
from ..supplychain import cosign
from ..supplychain.sign import Signing
from ..transport.referrers import fallback_tag
from ..transport.registry.copy import copy_manifest, same_place
from ..transport.registry.hosts import Registries
from ..transport.registry.push import PushStats
from ..transport.registry.repository import Repository
from ..util.progress import Reporter

ATTESTATION = "attestation-manifest"
#: What pyko copies beside each platform image when it moves to another repository.
ATTACHMENT_SUFFIXES = ("sig", "sbom", "att")


@dataclass(frozen=True)
class Entry:
    """One platform image offered by one source."""

    platform: Platform
    descriptor: Descriptor          # as the index will list it (platform from the config)
    source: str                     # the reference as the user typed it
    repository: Repository


@dataclass
class Sources:
    entries: List[Entry] = field(default_factory=list)
    annotations: List[Dict[str, str]] = field(default_factory=list)   # one per source that is an index


def read_source(text: str, repository: Repository, ident: str, sources: Sources) -> None:
    """Add what `text` (an image or an index) offers to `sources`."""
    raw, media_type, digest = repository.get_manifest(ident)
    if media_type in mediatypes.INDEX_TYPES:
        index = parse_index(raw, f"{text} ({digest[:19]})")
        sources.annotations.append(dict(index.annotations))
        for child in index.manifests:
            if (child.annotations or {}).get("vnd.docker.reference.type") == ATTESTATION:
                continue  # buildx's provenance entries are not platforms
            if child.media_type in mediatypes.MANIFEST_TYPES:
                sources.entries.append(_entry(text, repository, child))
    elif media_type in mediatypes.MANIFEST_TYPES:
        sources.entries.append(_entry(text, repository, Descriptor(media_type, digest, len(raw))))
    else:
        raise UsageError(f"{text} is a {clean_text(media_type, 80)}, not an image or an index")


def _entry(text: str, repository: Repository, desc: Descriptor) -> Entry:
    raw, _, _ = repository.get_manifest(desc.digest)
    manifest = parse_manifest(raw, f"{text}: manifest {desc.digest[:19]}")
    config = parse_config(repository.read_blob(manifest.config.digest, manifest.config.size),
                          f"{text}: config of {desc.digest[:19]}")
    platform = config.platform.normalized()
    listed = Descriptor(desc.media_type, desc.digest, desc.size, platform, desc.annotations)
    return Entry(platform, listed, text, repository)


def choose(entries: Sequence[Entry], prefer: Sequence[str], replaceable: Sequence[str] = ()) -> List[Entry]:
    """One entry per platform, in pyko's platform order. Two sources offering one platform
    (with different images) are an error unless --prefer names one; entries from
    `replaceable` sources (the index --append extends) give way to any other."""
    chosen: Dict[Platform, Entry] = {}
    for entry in entries:
        other = chosen.get(entry.platform)
        if other is None or other.descriptor.digest == entry.descriptor.digest:
            chosen.setdefault(entry.platform, entry)
        elif other.source in replaceable or entry.source in prefer:
            chosen[entry.platform] = entry
        elif not (entry.source in replaceable or other.source in prefer):
            raise UsageError(f"{entry.platform} is offered by both {other.source} and {entry.source}: "
                             "say which to take with --prefer REF")
    return [chosen[p] for p in sorted(chosen, key=platform_order)]


def agreed(annotations: Sequence[Dict[str, str]], note: Callable[[str], None]) -> Dict[str, str]:
    """The index annotations every source that has them agrees on; a conflict drops the key."""
    out: Dict[str, str] = {}
    dropped = set()
    for found in annotations:
        for key, value in found.items():
            if key in out and out[key] != value:
                dropped.add(key)
            out.setdefault(key, value)
    for key in sorted(dropped):
        note(f"the sources disagree on annotation {key}: left out of the index")
        del out[key]
    return out


def index_manifest(entries: Sequence[Entry], annotations: Dict[str, str]) -> BytesBlob:
    """The index, serialised exactly as pyko.image.Index.build serialises one."""
    doc = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
           "manifests": [entry.descriptor.to_json() for entry in entries]}
    if annotations:
        doc["annotations"] = dict(sorted(annotations.items()))
    return BytesBlob(mediatypes.OCI_INDEX, canonical_json(doc))


def gather(entries: Sequence[Entry], target: Repository, stats: PushStats) -> None:
    """Make every chosen image (and what is attached to it) available in the target repository."""
    for entry in entries:
        if same_place(entry.repository, target):
            continue
        copy_manifest(entry.repository, target, entry.descriptor.digest, stats)
        for tag in _attachment_tags(entry.descriptor.digest):
            if entry.repository.head_manifest(tag):
                copy_manifest(entry.repository, target, tag, stats, tag=tag)


def _attachment_tags(digest: str) -> Tuple[str, ...]:
    # cosign's .sig/.sbom/.att tags, and the OCI 1.1 referrers fallback tag (sha256-<hex>).
    return tuple(cosign.tag_for(digest, suffix) for suffix in ATTACHMENT_SUFFIXES) + (fallback_tag(digest),)


def target_reference(text: str) -> Reference:
    ref = Reference.parse(text)
    if ref.digest:
        raise UsageError(f"the index to create is named by a tag, not a digest: {text}")
    return ref


def existing(repository: Repository, tag: str) -> Optional[str]:
    """The digest under `tag`, if there is one (for --append)."""
    return repository.head_manifest(tag) or None


@dataclass(frozen=True)
class IndexRequest:
    target: str                         # REPO:TAG
    sources: Tuple[str, ...]            # image or index references
    tags: Tuple[str, ...] = ()          # more tags
    prefer: Tuple[str, ...] = ()
    append: bool = False
    sbom: bool = True                   # attach an index SBOM linking the platforms
    epoch: int = 0                      # SOURCE_DATE_EPOCH, for the SBOM's date


def create_index(request: IndexRequest, registries: Registries, signing: Optional[Signing], reporter: Reporter) -> str:
    """Merge, gather, push and tag, then sign (as `signing` says, when given); returns the
    reference to deploy."""
    from ..reference import check_tag
    from ..supplychain import sbom
    from ..supplychain.sign import attach_sbom
    from ..transport.attachment_stores import RegistryAttachments
    from ..util.timestamps import rfc3339

    ref = target_reference(request.target)
    tags = tuple(dict.fromkeys(check_tag(t) for t in (ref.tag or "latest", *request.tags)))
    target = Repository(registries(ref.registry), ref.repository)
    found = Sources()
    for text in request.sources:
        source = Reference.parse(text)
        read_source(text, Repository(registries(source.registry), source.repository), source.identifier, found)
    replaceable: Tuple[str, ...] = ()
    if request.append and existing(target, tags[0]):
        replaceable = (f"{ref.name}:{tags[0]} (the index appended to)",)
        read_source(replaceable[0], target, tags[0], found)
    if not found.entries:
        raise UsageError("the sources offer no image to put in an index")
    chosen = choose(found.entries, request.prefer, replaceable)
    if signing is not None:
        signing.signer.prepare()   # a keyless certificate is had before anything is pushed
    stats = PushStats()
    gather(chosen, target, stats)
    manifest = index_manifest(chosen, agreed(found.annotations, reporter.info))
    digest = manifest.descriptor.digest
    if target.head_manifest(digest, for_push=True) != digest:
        target.put_manifest(digest, manifest.data, manifest.media_type)
    for tag in tags:
        if target.head_manifest(tag, for_push=True) != digest:
            target.put_manifest(tag, manifest.data, manifest.media_type)
    reporter.info(f"index {ref.name}:{','.join(tags)}: " + ", ".join(str(e.platform) for e in chosen)
                  + f" ({stats.summary()})")
    store = RegistryAttachments(registries(ref.registry), ref.repository)
    if request.sbom:
        children = [(entry.platform, entry.descriptor.digest) for entry in chosen]
        attach_sbom(store, digest, sbom.index_sbom(ref.name, digest, rfc3339(request.epoch), children),
                    manifest.descriptor, rfc3339(request.epoch))
    if signing is not None:
        signed = signing.sign(store, digest, ref.name)
        reporter.info(f"signed {len(signed)} manifest(s) of {ref.name} ({signing.form} format) as "
                      f"{signing.signer.description}")
    one = shown_tag(tags)
    return f"{ref.name}{':' + one if one else ''}@{digest}"
