"""OCI 1.1 referrers: artifacts that point at an image through their manifest's `subject`.

Where the registry has the referrers API, pushing the artifact's manifest is
enough (it answers with OCI-Subject) and GET /v2/<name>/referrers/<digest> lists
it. Elsewhere (distribution 2.8, OCI layouts) the distribution spec's fallback
applies: an image index under the tag `sha256-<hex>` lists the referrers, and
pyko keeps it up to date itself. Either way readers see the same index entries:
mediaType, digest, size, artifactType and the manifest's annotations.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, List, Mapping, Optional, Tuple

from ..errors import MalformedInput
from ..image import Blob, BytesBlob, Descriptor, canonical_json, mediatypes
from ..image.documents import load_json, parse_index

if TYPE_CHECKING:
    from .attachment_stores import AttachmentStore  # which imports this module

EMPTY = BytesBlob("application/vnd.oci.empty.v1+json", b"{}")
#: Referrers read per subject: each may cost a request (its manifest), so a registry cannot make a
#: verification fetch thousands of them. Entries are deduplicated by digest before they count.
MAX_REFERRERS = 256


def fallback_tag(digest: str) -> str:
    """The referrers tag of the spec's fallback: `sha256-<hex>` (cosign's, too)."""
    return digest.replace(":", "-", 1)


def artifact(subject: Descriptor, artifact_type: str, layer: BytesBlob,
             annotations: Optional[Mapping[str, str]] = None,
             layer_annotations: Optional[Mapping[str, str]] = None) -> BytesBlob:
    """An artifact manifest: empty config, one layer, `subject` set (OCI image spec 1.1)."""
    doc = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "artifactType": artifact_type,
        # On the config too, as cosign does: go-containerregistry's registry lists a referrer's
        # artifactType from its config descriptor.
        "config": EMPTY.descriptor.with_(artifact_type=artifact_type).to_json(),
        "layers": [layer.descriptor.with_(annotations=dict(layer_annotations or {}) or None).to_json()],
        "subject": Descriptor(subject.media_type, subject.digest, subject.size).to_json(),
    }
    if annotations:
        doc["annotations"] = dict(sorted(annotations.items()))
    return BytesBlob(mediatypes.OCI_MANIFEST, canonical_json(doc))


def attach(store: AttachmentStore, subject: Descriptor, manifest: BytesBlob, blobs: Iterable[Blob]) -> None:
    """Store a referrer. Where the store has the referrers API, pushing it is enough; elsewhere
    it is added to the fallback index. One already listed (a rebuild's) costs one lookup."""
    digest = manifest.descriptor.digest
    listed, by_api = _listed(store, subject.digest)
    if any(entry.digest == digest for entry in listed):
        return
    blobs = list(blobs)
    if store.put_referrer(manifest, blobs) or by_api:
        return  # the registry indexes it itself
    index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
             "manifests": [e.to_json() for e in listed] + [_entry(manifest).to_json()]}
    store.put(fallback_tag(subject.digest), BytesBlob(mediatypes.OCI_INDEX, canonical_json(index)),
              [manifest, *blobs])


def _entry(manifest: BytesBlob) -> Descriptor:
    doc = load_json(manifest.data, "a referrer manifest")
    return manifest.descriptor.with_(artifact_type=doc.get("artifactType", ""),
                                     annotations=doc.get("annotations") or None)


def _listed(store: AttachmentStore, digest: str) -> Tuple[List[Descriptor], bool]:
    """The referrers listed for `digest`, and whether the referrers API listed them (else the fallback tag)."""
    raw = store.referrers_index(digest)
    if raw is not None:
        return list(parse_index(raw, f"the referrers of {digest[:19]}").manifests), True
    tag = fallback_tag(digest)
    raw = store.manifest(tag)
    return (list(parse_index(raw, f"the referrers index {tag}").manifests) if raw else []), False


def find(store: AttachmentStore, digest: str, artifact_type: str = "") -> List[Descriptor]:
    """The referrers of `digest` (of one artifact type, if given): the API's answer, else the fallback
    tag's; each digest once, and at most MAX_REFERRERS of them."""
    entries, _ = _listed(store, digest)
    unique = list({entry.digest: entry for entry in entries}.values())
    if len(unique) > MAX_REFERRERS:
        raise MalformedInput(f"the referrers of {digest[:19]}… list {len(unique)} artifacts; pyko reads at most "
                             f"{MAX_REFERRERS} for one image")
    return [e for e in unique if not artifact_type or _artifact_type(store, e) == artifact_type]


def _artifact_type(store: AttachmentStore, entry: Descriptor) -> str:
    """The entry's artifactType; where a registry listed only the config's media type (the empty
    one), the manifest's own."""
    if entry.artifact_type and entry.artifact_type != EMPTY.media_type:
        return entry.artifact_type
    doc = load_json(store.manifest_bytes(entry.digest), f"referrer {entry.digest[:19]}")
    found = doc.get("artifactType")
    return found if isinstance(found, str) else ""
