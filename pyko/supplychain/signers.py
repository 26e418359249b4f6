"""Who signs: the one signing path every command uses (build, resolve, apply, sign, attest,
index create, rebase, and the Go build cache).

A Signer makes the three things pyko stores, whatever signs them:
- a signature over cosign's simple-signing payload, for the legacy `.sig` layer, with the layer
  annotations that go beside it (none for a key; the certificate, its chain and the Rekor bundle
  for keyless, as `cosign sign` writes them);
- a DSSE envelope over an in-toto statement, for a legacy `.att` layer, with its annotations;
- a v0.3 Sigstore bundle of a statement, for a referrer (cosign v3's default form).

KeySigner signs with a private key (cosign.key); keyless/signing.py's KeylessSigner gets a
short-lived Fulcio certificate for the CI's OIDC identity and logs every signature in Rekor,
through sigstore-python's public signing API.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Protocol, Tuple, Type

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from ..util.jsontypes import JsonObject
from . import bundles, cosign, dsse

#: Extra annotations of a signature layer (legacy forms), by name.
Annotations = Dict[str, str]


class Signer(Protocol):
    @property
    def description(self) -> str:
        """Who signed, for the user: `key ci.key`, or the certificate's identity and issuer."""

    def prepare(self) -> None:
        """Get ready to sign (a keyless signer fetches its certificate): called before pushing,
        so that what cannot be signed is known before anything is written."""

    def sign_payload(self, payload: bytes) -> Tuple[str, Annotations]:
        """(base64 signature, the layer's other annotations) for a simple-signing payload."""

    def sign_envelope(self, statement: bytes) -> Tuple[JsonObject, Annotations]:
        """(DSSE envelope, the layer's annotations) of an in-toto statement."""

    def sign_bundle(self, statement: bytes) -> bytes:
        """A v0.3 Sigstore bundle of an in-toto statement, as JSON bytes."""


@dataclass(frozen=True)
class KeySigner:
    """cosign sign --key: signatures and envelopes are deterministic (RFC 6979), so signing the
    same payload twice gives the same bytes and a rebuild stores nothing new."""

    private_key: PrivateKeyTypes
    source: str = "a key"

    @property
    def description(self) -> str:
        return f"key {self.source}"

    def prepare(self) -> None:
        return None

    def sign_payload(self, payload: bytes) -> Tuple[str, Annotations]:
        return cosign.sign(self.private_key, payload), {}

    def sign_envelope(self, statement: bytes) -> Tuple[JsonObject, Annotations]:
        return dsse.envelope(self.private_key, statement), {}

    def sign_bundle(self, statement: bytes) -> bytes:
        return bundles.signed_bundle(self.private_key, statement)


@dataclass(frozen=True)
class SignerRequest:
    """How to sign, as the plan resolved it: a key file, or keyless (the token's source and
    the Sigstore instance). Holds no secret: the token is read when the signer is opened."""

    key: str = ""                       # path of the private key
    keyless: bool = False
    identity_token: str = ""            # --identity-token: a token or a file holding one ("" : ambient)
    trust_config: str = ""              # --trust-config FILE ("" : the public-good Sigstore)
    legacy: bool = True                 # legacy forms need a Rekor v1 entry (its SET)

    @property
    def wanted(self) -> bool:
        return bool(self.key) or self.keyless

if TYPE_CHECKING:   # checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    _checked: Type[Signer] = KeySigner
