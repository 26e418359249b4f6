"""Verifying an image's signatures, with a public key or keyless (a Sigstore identity), in every
place cosign keeps them: the legacy `.sig` manifest and Sigstore bundle referrers.

A Verifier knows how to check one legacy layer and one bundle; `verify_signatures`
finds them and collects the reasons the others failed, so an error says why each
signature was refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Mapping, Protocol, Tuple, Type

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ..errors import MalformedInput, VerificationError
from ..transport.attachment_stores import AttachmentStore
from . import attestations, bundles, cosign, dsse, strict_json
from .policy import BasePolicy

if TYPE_CHECKING:
    from .keyless import KeylessPolicy  # sigstore-python is imported only for keyless verification


@dataclass(frozen=True)
class Verified:
    """One signature that verified: its payload (or statement), where it was, what was checked."""

    payload: bytes
    where: str
    checks: str


class Verifier(Protocol):
    #: A line for the user about how the verifier was set up (a trusted root that could not be
    #: refreshed), or "".
    note: str

    def legacy(self, layer: cosign.ArtifactLayer, digest: str, where: str) -> Tuple[bytes, str]:
        """(the payload, the checks made) of a `.sig` layer that verifies and claims `digest`; raises
        MalformedInput (or VerificationError) saying why not."""

    def bundle(self, data: bytes, digest: str, where: str) -> Tuple[dsse.Statement, str]:
        """(the statement, the checks made) of a signature bundle that verifies and is about `digest`."""


KEY_CHECKS = "signature with the key, digest claim"


class KeyVerifier:
    """cosign verify --key."""

    note = ""

    def __init__(self, public_key: PublicKeyTypes) -> None:
        self.public_key = public_key

    def legacy(self, layer: cosign.ArtifactLayer, digest: str, where: str) -> Tuple[bytes, str]:
        if layer.problem:
            raise MalformedInput(layer.problem)
        good, reasons = cosign.verify_layers(self.public_key, [layer], digest, {})
        if not good:
            raise MalformedInput(reasons[0].replace("signature 1", where))
        return good[0].payload, KEY_CHECKS

    def bundle(self, data: bytes, digest: str, where: str) -> Tuple[dsse.Statement, str]:
        body = dsse.verify_envelope(self.public_key, bundles.envelope_of(data, where), where)
        statement = dsse.parse_statement(body, where)
        if not statement.names_digest(digest):
            raise MalformedInput(f"{where}: signs something else, not {digest}")
        return statement, KEY_CHECKS


class KeylessVerifier:
    """cosign verify --certificate-identity[-regexp] … --certificate-oidc-issuer[-regexp] … [--trusted-root]."""

    def __init__(self, policy: KeylessPolicy) -> None:
        self.policy = policy
        self.note = policy.root.note

    def legacy(self, layer: cosign.ArtifactLayer, digest: str, where: str) -> Tuple[bytes, str]:
        from .keyless import LEGACY_CHECKS, verify_legacy

        if layer.problem:
            raise MalformedInput(layer.problem)
        return verify_legacy(layer.data, layer.annotations, digest, self.policy, where), \
            "pyko: " + ", ".join(LEGACY_CHECKS)

    def bundle(self, data: bytes, digest: str, where: str) -> Tuple[dsse.Statement, str]:
        from .keyless import verify_bundle

        return verify_bundle(data, digest, self.policy, where)


def verifier_for(policy: BasePolicy, sigstore_offline: bool = False, cache_dir: str = "") -> Verifier:
    """The verifier a BasePolicy asks for: its key's, else keyless (its identity, its trusted root;
    the public-good root is refreshed through TUF, its state under `cache_dir`, unless
    `sigstore_offline`)."""
    if policy.key:
        from .cosign import load_public_key

        return KeyVerifier(load_public_key(policy.key))
    from .keyless import Identity, KeylessPolicy, load_trusted_root

    identity = Identity(policy.identity, policy.identity_regexp, policy.issuer, policy.issuer_regexp)
    root = load_trusted_root(policy.trusted_root, sigstore_offline, cache_dir)
    return KeylessVerifier(KeylessPolicy(identity, root))


def verify_signatures(store: AttachmentStore, digest: str, verifier: Verifier, required: Mapping[str, str],
                      shown: str) -> List[Verified]:
    """The signatures of `digest` that verify (and carry the `required` annotations), each with
    the checks it passed; raises VerificationError with every reason when none do."""
    tag = cosign.tag_for(digest, "sig")
    raw = store.manifest(tag)
    layers = cosign.layers_for_verifying(raw, store.blob, f"signature manifest {tag}") if raw is not None else []
    found = attestations.bundle_blobs(store, digest, bundles.SIGN_PREDICATE)
    if not layers and not found:
        raise VerificationError(f"no signatures found for {shown} ({digest})")
    verified, reasons = [], []
    for n, layer in enumerate(layers, 1):
        where = f"signature {n}"
        try:
            payload, checks = verifier.legacy(layer, digest, where)
            _require(_payload_annotations(payload), required, where)
            verified.append(Verified(payload, f"{where} ({tag})", checks))
        except (MalformedInput, VerificationError) as err:
            reasons.append(str(err))
    for where, data in found:
        try:
            statement, checks = verifier.bundle(data, digest, where)
            if statement.predicate_type != bundles.SIGN_PREDICATE:
                raise MalformedInput(f"{where}: not a signature (predicate {statement.predicate_type[:80]})")
            _require(statement.subject_annotations(digest), required, where)
            verified.append(Verified(statement.raw, where, checks))
        except (MalformedInput, VerificationError) as err:
            reasons.append(str(err))
    if not verified:
        raise VerificationError(f"no valid signature for {shown}: " + "; ".join(reasons))
    return verified


def _payload_annotations(payload: bytes) -> Mapping[str, str]:
    try:
        optional = strict_json.loads(payload, "the payload").get("optional") or {}
    except (MalformedInput, AttributeError):
        return {}
    return {k: str(v) for k, v in optional.items()} if isinstance(optional, dict) else {}


def _require(found: Mapping[str, str], required: Mapping[str, str], where: str) -> None:
    missing = {k: v for k, v in required.items() if found.get(k) != v}
    if missing:
        raise MalformedInput(f"{where}: annotations do not match ("
                             + ", ".join(f"{k}={v}" for k, v in missing.items()) + ")")

if TYPE_CHECKING:   # each implementation checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    _key: Type[Verifier] = KeyVerifier
    _keyless: Type[Verifier] = KeylessVerifier

