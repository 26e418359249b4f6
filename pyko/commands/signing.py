"""`pyko sign` and `pyko attest`: sign an image that is already stored (in a registry or an OCI
layout), or attest a predicate about it, through the one signing path (supplychain/sign.py)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import List, Mapping, NoReturn, Tuple

from ..errors import SigningError, UsageError
from ..supplychain import attestations
from ..supplychain.policy import BasePolicy, check
from ..supplychain.sign import Signing, Stored, described, store_for
from ..supplychain.verify import Verifier, verifier_for
from ..transport.attachment_stores import AttachmentStore
from ..transport.registry.hosts import Registries
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


def located(image: str, oci_layout: str, registries: Registries) -> Located:
    """IMAGE in a registry or, with `oci_layout`, in that layout (NAME:TAG or NAME@DIGEST there)."""
    store, ident, name = store_for(image, oci_layout, registries)
    return Located(store, ident, name, oci_layout)


_FLAGS = (("certificateIdentityRegexp", "--certificate-identity-regexp"),
          ("certificateIdentity", "--certificate-identity"),
          ("certificateOidcIssuerRegexp", "--certificate-oidc-issuer-regexp"),
          ("certificateOidcIssuer", "--certificate-oidc-issuer"))


def _flag_error(key: str, problem: str) -> NoReturn:
    """A policy problem, said with the flags' names rather than the config's."""
    for config_name, flag in _FLAGS:
        problem = problem.replace(config_name, flag)
    raise UsageError(problem)


def verifier_from_flags(key_path: str, identity: str, identity_regexp: str, issuer: str, issuer_regexp: str,
                        trusted_root: str, offline: bool, cache_dir: str) -> Verifier:
    """`pyko verify`'s verifier: a key's or a keyless one (cosign's flags); one error for each
    combination that cannot work, named by its flags."""

    keyless = identity or identity_regexp or issuer or issuer_regexp
    if bool(key_path) == bool(keyless):
        raise UsageError("give --key, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]")
    policy = BasePolicy(key=key_path, identity=identity, identity_regexp=identity_regexp, issuer=issuer,
                        issuer_regexp=issuer_regexp, trusted_root=trusted_root)
    check(policy, _flag_error)
    return verifier_for(policy, offline, cache_dir)


def write_key_pair(prefix: str, environ: Mapping[str, str]) -> Tuple[str, str]:
    """`pyko generate-key-pair`: PREFIX.key (encrypted with the password COSIGN_PASSWORD gives, else one
    asked twice) and PREFIX.pub, as cosign writes them; never over an existing file. Their paths."""
    from ..supplychain.cosign import generate_key_pair, password_from
    from ..util.atomic import atomic_file

    key_path, pub_path = f"{prefix}.key", f"{prefix}.pub"
    for path in (key_path, pub_path):
        if os.path.exists(path):
            raise UsageError(f"{path} already exists; move it away or choose --output-key-prefix")
    private, public = generate_key_pair(password_from(environ, confirm=True, what="the new private key"))
    with atomic_file(key_path, mode=0o600) as f:
        f.write(private)
    with atomic_file(pub_path) as f:
        f.write(public)
    return key_path, pub_path

