"""Verifying an image's signatures, with a public key or keyless (a Sigstore identity), in every
place cosign keeps them: the legacy `.sig` manifest and Sigstore bundle referrers.

A Verifier knows how to check one legacy layer and one bundle; `verify_signatures`
finds them and collects the reasons the others failed, so an error says why each
signature was refused.
"""
from __future__ import annotations

import json
from typing import List, Mapping, Protocol

from ..errors import MalformedInput, VerificationError
from . import attestations, bundles, cosign, dsse


class Verifier(Protocol):
    def legacy(self, layer: cosign.ArtifactLayer, digest: str, where: str) -> bytes:
        """The payload of a `.sig` layer that verifies and claims `digest`; raises MalformedInput
        (or VerificationError) saying why not."""

    def bundle(self, data: bytes, digest: str, where: str) -> dsse.Statement:
        """The statement of a signature bundle that verifies and is about `digest`."""


class KeyVerifier:
    """cosign verify --key."""

    def __init__(self, public_key):
        self.public_key = public_key

    def legacy(self, layer: cosign.ArtifactLayer, digest: str, where: str) -> bytes:
        good, reasons = cosign.verify_layers(self.public_key, [layer], digest, {})
        if not good:
            raise MalformedInput(reasons[0].replace("signature 1", where))
        return good[0].payload

    def bundle(self, data: bytes, digest: str, where: str) -> dsse.Statement:
        body = dsse.verify_envelope(self.public_key, bundles.envelope_of(data, where), where)
        statement = dsse.parse_statement(body, where)
        if not statement.names_digest(digest):
            raise MalformedInput(f"{where}: signs something else, not {digest}")
        return statement


class KeylessVerifier:
    """cosign verify --certificate-identity … --certificate-oidc-issuer … [--trusted-root]."""

    def __init__(self, policy):
        self.policy = policy

    def legacy(self, layer: cosign.ArtifactLayer, digest: str, where: str) -> bytes:
        from .keyless import verify_legacy

        return verify_legacy(layer.data, layer.annotations, digest, self.policy, where)

    def bundle(self, data: bytes, digest: str, where: str) -> dsse.Statement:
        from .keyless import verify_bundle

        return verify_bundle(data, digest, self.policy, where)


def verifier_for(policy, sigstore_offline: bool = False) -> Verifier:
    """The verifier a BasePolicy asks for: its key's, else keyless (its identity, its trusted root;
    the public-good root is refreshed through TUF unless `sigstore_offline`)."""
    if policy.key:
        from .cosign import load_public_key

        return KeyVerifier(load_public_key(policy.key))
    from .keyless import Identity, KeylessPolicy, load_trusted_root

    identity = Identity(policy.identity, policy.identity_regexp, policy.issuer, policy.issuer_regexp)
    return KeylessVerifier(KeylessPolicy(identity, load_trusted_root(policy.trusted_root, sigstore_offline)))


def verify_signatures(store, digest: str, verifier: Verifier, required: Mapping[str, str], shown: str) -> List[bytes]:
    """The payloads of `digest`'s signatures that verify (and carry the `required` annotations);
    raises VerificationError with every reason when none do."""
    raw = store.manifest(cosign.tag_for(digest, "sig"))
    layers = cosign.existing_layers(raw, store.blob) if raw is not None else []
    found = attestations.bundle_blobs(store, digest, bundles.SIGN_PREDICATE)
    if not layers and not found:
        raise VerificationError(f"no signatures found for {shown} ({digest})")
    payloads, reasons = [], []
    for n, layer in enumerate(layers, 1):
        where = f"signature {n}"
        try:
            payload = verifier.legacy(layer, digest, where)
            _require(_payload_annotations(payload), required, where)
            payloads.append(payload)
        except (MalformedInput, VerificationError) as err:
            reasons.append(str(err))
    for where, data in found:
        try:
            statement = verifier.bundle(data, digest, where)
            if statement.predicate_type != bundles.SIGN_PREDICATE:
                raise MalformedInput(f"{where}: not a signature (predicate {statement.predicate_type[:80]})")
            _require(statement.subject_annotations(digest), required, where)
            payloads.append(statement.raw)
        except (MalformedInput, VerificationError) as err:
            reasons.append(str(err))
    if not payloads:
        raise VerificationError(f"no valid signature for {shown}: " + "; ".join(reasons))
    return payloads


def _payload_annotations(payload: bytes) -> Mapping[str, str]:
    try:
        optional = json.loads(payload).get("optional") or {}
    except (ValueError, AttributeError, RecursionError):
        return {}
    return {k: str(v) for k, v in optional.items()} if isinstance(optional, dict) else {}


def _require(found: Mapping[str, str], required: Mapping[str, str], where: str) -> None:
    missing = {k: v for k, v in required.items() if found.get(k) != v}
    if missing:
        raise MalformedInput(f"{where}: annotations do not match ("
                             + ", ".join(f"{k}={v}" for k, v in missing.items()) + ")")
