"""What is stored beside a built image: its SBOMs, signatures and attestations.

Everything about one subject (the index, or one platform's image) lives under
that subject's own tags (`sha256-<hex>.sbom`, `.sig`, `.att`) or its own
referrers, so subjects are independent of each other. On a registry they are
written in parallel: the work is round trips, and backoff when the registry is
unhealthy, so one slow subject no longer holds up the others. A layout is one
`index.json` under one lock, so there they go one at a time. Within a subject
the order stays fixed, because a referrers fallback index is read, extended and
written back.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from ..image.blob import Descriptor
from ..transport.attachment_stores import AttachmentStore
from ..util.jsontypes import JsonObject
from . import attestations
from .sign import AttachmentKind, Stored, attach_sbom, sign_digest
from .signers import Signer

KINDS: Tuple[AttachmentKind, ...] = ("sbom", "signature", "attestation")   # the order results are reported in


@dataclass(frozen=True)
class Subject:
    """One manifest and what is to be stored about it."""

    descriptor: Descriptor
    sbom: Optional[bytes] = None           # its SPDX document, if it has one
    signed: bool = False                   # gets a signature
    provenance: Optional[JsonObject] = None      # its SLSA predicate, when attesting


@dataclass(frozen=True)
class Attaching:
    """How to store them: the image's name (signed into payloads), the key, the signing settings."""

    name: str
    signer: Optional[Signer] = None
    form: str = "legacy"
    annotations: Tuple[Tuple[str, str], ...] = ()
    created: str = ""
    takes_sboms: bool = True               # the store keeps SBOMs (a local engine does not)


def attach_all(store: AttachmentStore, subjects: Sequence[Subject], how: Attaching, jobs: int,
               parallel: bool) -> List[Stored]:
    """Store everything about every subject; returns what was stored: every SBOM first, then
    the signatures, then the attestations, each in subject order, however it was scheduled."""
    if parallel and len(subjects) > 1:
        with cf.ThreadPoolExecutor(max_workers=max(1, min(jobs, len(subjects)))) as pool:
            done = list(pool.map(lambda subject: _attach_one(store, subject, how), subjects))
    else:
        done = [_attach_one(store, subject, how) for subject in subjects]
    return [stored for kind in KINDS for one in done for stored in one[kind]]


def _attach_one(store: AttachmentStore, subject: Subject, how: Attaching) -> Dict[AttachmentKind, List[Stored]]:
    digest = subject.descriptor.digest
    out: Dict[AttachmentKind, List[Stored]] = {kind: [] for kind in KINDS}
    if subject.sbom is not None and how.takes_sboms:
        out["sbom"] = attach_sbom(store, digest, subject.sbom, subject.descriptor, how.created)
    if how.signer is None:
        return out
    if subject.signed:
        out["signature"] = [sign_digest(store, subject.descriptor, how.name, how.signer, dict(how.annotations),
                                        how.form, how.created)]
    if subject.provenance is not None:
        items = [attestations.Attestation(subject.descriptor, how.name, attestations.SPDX, json.loads(subject.sbom))
                 ] if subject.sbom is not None else []   # the plan refuses attesting without SBOMs
        items.append(attestations.Attestation(subject.descriptor, how.name, attestations.SLSA_V1,
                                              subject.provenance))
        out["attestation"] = [Stored("attestation", digest, tag, where)
                              for tag, where in attestations.attest(store, items, how.signer, how.form, how.created)]
    return out
