"""`pyko sign` and `pyko attest`: sign an image that is already stored (in a registry or an OCI
layout), or attest a predicate about it, through the one signing path (supplychain/sign.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List, Tuple

from ..errors import SigningError, UsageError
from ..supplychain import attestations
from ..supplychain.sign import Signing, Stored, described
from ..transport.attachment_stores import AttachmentStore
from ..util.files import read_capped
from ..util.jsontypes import JsonObject

#: A predicate file is read whole; an SBOM of a large image is a few MB.
MAX_PREDICATE = 32 << 20


@dataclass(frozen=True)
class Located:
    """Where the command's image is: its attachment store, identifier and name."""

    store: AttachmentStore
    ident: str
    name: str
    layout: str = ""          # the OCI layout it is in, "" for a registry


def sign_stored(where: Located, signing: Signing) -> Tuple[str, List[Stored]]:
    """(the digest signed, what was stored) for the image `where` names."""
    digest, _ = where.store.resolve(where.ident)
    signing.signer.prepare()
    return digest, signing.sign(where.store, digest, where.name, where.layout)


def read_predicate(path: str) -> JsonObject:
    """The predicate file: one JSON object (cosign attest --predicate)."""
    data = read_capped(path, MAX_PREDICATE, "the predicate")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise UsageError(f"--predicate {path} is not JSON") from None
    if not isinstance(doc, dict):
        raise UsageError(f"--predicate {path} must hold a JSON object")
    return doc


def attest_stored(where: Located, signing: Signing, predicate_type: str,
                  predicate: JsonObject) -> Tuple[str, List[Stored]]:
    """(the digest attested, what was stored): `predicate` about the image, signed as an in-toto
    statement in the signing's form (cosign's `.att` tag, or a bundle referrer)."""
    digest, _ = where.store.resolve(where.ident)
    subject = described(where.store, digest)
    signing.signer.prepare()
    item = attestations.Attestation(subject, where.name, predicate_type, predicate)
    try:
        places = attestations.attest(where.store, [item], signing.signer, signing.form, signing.created)
    except SigningError as err:
        raise SigningError(f"{where.name}@{digest} is not attested: {err}") from None
    return digest, [Stored("attestation", digest, tag, manifest) for tag, manifest in places]
