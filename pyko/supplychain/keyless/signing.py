"""Keyless signing: a short-lived Fulcio certificate for the CI's OIDC identity, every signature
logged in Rekor, through sigstore-python's public signing API (`SigningContext`, `IdentityToken`,
`detect_credential`, `ClientTrustConfig`). pyko writes no Fulcio, Rekor or OIDC client.

The token comes from `--identity-token` (the token, or a file holding it, as cosign takes it),
else `SIGSTORE_ID_TOKEN`, else the CI's ambient credential as sigstore-python detects it (GitHub
Actions, GitLab, Google, Buildkite, CircleCI). There is never a browser flow: with no token the
command stops with one line saying where one comes from.

Secrets: the token lives in this module's objects only; every message that leaves here has it
scrubbed out, whatever a service echoed back. The ephemeral private key is sigstore-python's,
in memory, and is never seen by pyko.

The instance is the public-good Sigstore (its signing config through TUF), or `--trust-config
FILE`, sigstore-python's client trust config (a trusted root and a signing config). The legacy
forms (`.sig`/`.att` layers with cosign's annotations) carry a Rekor v1 SET, so they ask for a
v1 log; bundles take whatever log the signing config prefers.
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, List, Mapping, Optional, Tuple, Type

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ...errors import PykoError, SigningError, UsageError, clean_text
from ...util.files import read_capped
from ...util.jsontypes import JsonObject
from ..signers import Annotations
from .identity import issuer_of, subject_alternative_names

if TYPE_CHECKING:
    import requests  # imported where used: keyless signing alone needs it

    from ..signers import SignerRequest

CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
MAX_TOKEN = 64 << 10
MAX_TRUST_CONFIG = 4 << 20
#: Fulcio's certificates last 10 minutes; one older than this is replaced before it signs again
#: (sigstore-python refuses to sign with an expired one), so a long push is not cut short.
RENEW_AFTER = 8 * 60
#: Attempts at one Rekor entry when the log answers 429/5xx or the connection drops.
LOG_ATTEMPTS = 3
LOG_BACKOFF = 1.0
NO_TOKEN = ("keyless signing needs an OIDC identity token, and none was found: in GitHub Actions give the "
            "job `permissions: id-token: write`; in GitLab set `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`; "
            "elsewhere set SIGSTORE_ID_TOKEN or give --identity-token TOKEN|FILE")

class KeylessSigner:
    """A Signer (supplychain/signers.py) that signs as the token's identity. The certificate is
    fetched once, on first use or by prepare(), and serves every signature of the command."""

    def __init__(self, context: Any, token: Any, token_source: str, fulcio_certs: List[x509.Certificate],
                 redetect: Optional[Callable[[], Any]] = None):
        self._context = context
        self._token = token
        self._token_source = token_source
        self._fulcio_certs = fulcio_certs
        self._redetect = redetect               # a fresh ambient token, when the first one expired
        self._lock = threading.Lock()
        self._signer: Any = None
        self._opened = 0.0                      # time.monotonic() when the certificate was had
        self._cert: Optional[x509.Certificate] = None

    # --- who -----------------------------------------------------------------------------------------
    @property
    def description(self) -> str:
        if self._cert is None:
            return f"keyless ({self._token.identity}, issuer {self._token.issuer})"
        names = ", ".join(subject_alternative_names(self._cert)) or "no identity"
        return f"keyless: {names} (issuer {issuer_of(self._cert) or 'unknown'})"

    @property
    def certificate(self) -> Optional[x509.Certificate]:
        return self._cert

    # --- the certificate ------------------------------------------------------------------------------
    def prepare(self) -> None:
        self._ready()

    def _ready(self) -> Any:
        with self._lock:
            if self._signer is None or time.monotonic() - self._opened > RENEW_AFTER:
                self._signer, self._opened = self._open(), time.monotonic()
            return self._signer

    def _open(self) -> Any:
        if not self._token.in_validity_period() and self._redetect is not None:
            self._token = self._redetect()   # an ambient token outlived by a long build: ask again
        if not self._token.in_validity_period():
            raise SigningError(f"the OIDC identity token from {self._token_source} has expired; "
                               "sign again with a fresh one (a CI job's token lasts minutes)")
        try:
            # With cache=True the signer makes its key and gets its certificate now, and keeps both
            # for every signature; the context manager holds nothing else to release.
            with self._context.signer(self._token, cache=True) as signer:
                return signer
        except Exception as err:  # noqa: BLE001 - sigstore-python's client errors are not public types
            raise SigningError(self._scrub(f"Fulcio did not issue a signing certificate for the identity of "
                                           f"{self._token_source}: {_reason(err, self._scrub)}")) from None

    # --- signing -----------------------------------------------------------------------------------------
    def sign_payload(self, payload: bytes) -> Tuple[str, Annotations]:
        bundle = self._logged(lambda signer: signer.sign_artifact(payload))
        doc = json.loads(bundle.to_json())
        signature = doc["messageSignature"]["signature"]
        return signature, self._legacy_annotations(doc)

    def sign_envelope(self, statement: bytes) -> Tuple[JsonObject, Annotations]:
        doc = json.loads(self.sign_bundle(statement))
        return doc["dsseEnvelope"], self._legacy_annotations(doc)

    def sign_bundle(self, statement: bytes) -> bytes:
        from sigstore.dsse import Statement

        try:
            parsed = Statement(statement)
        except Exception as err:  # noqa: BLE001 - sigstore's own validation error
            raise PykoError(f"sigstore-python refuses the in-toto statement pyko made: {clean_text(err, 200)}"
                            ) from None
        bundle = self._logged(lambda signer: signer.sign_dsse(parsed))
        text: str = bundle.to_json()
        return text.encode()

    def _logged(self, sign: Callable[[Any], Any]) -> Any:
        """sign(signer), retried while Rekor answers 429/5xx or drops the connection (each try
        signs anew, so a retried entry is a new one, never a replay that Rekor would refuse)."""
        signer = self._ready()
        for attempt in range(1, LOG_ATTEMPTS + 1):
            try:
                bundle = sign(signer)
                self._cert = bundle.signing_certificate   # the one certificate every signature shares
                return bundle
            except Exception as err:  # noqa: BLE001 - as above
                if attempt < LOG_ATTEMPTS and _transient(err):
                    time.sleep(LOG_BACKOFF * 2 ** (attempt - 1))
                    continue
                reason = _reason(err, self._scrub)
                raise SigningError(self._scrub(f"Rekor did not log the signature: {reason}")) from None
        raise AssertionError("unreachable")

    def _legacy_annotations(self, doc: Mapping[str, Any]) -> Annotations:
        """cosign's keyless layer annotations: the certificate, its chain, and the Rekor bundle (SET)."""
        entry = doc["verificationMaterial"]["tlogEntries"][0]
        promise = (entry.get("inclusionPromise") or {}).get("signedEntryTimestamp")
        if not promise:
            raise SigningError("the transparency log gave no signed entry timestamp (a Rekor v2 log?): the "
                               "legacy format needs a Rekor v1 log; use --signature-format bundle")
        rekor_bundle = {"SignedEntryTimestamp": promise,
                        "Payload": {"body": entry["canonicalizedBody"], "integratedTime": int(entry["integratedTime"]),
                                    "logIndex": int(entry["logIndex"]),
                                    "logID": base64.b64decode(entry["logId"]["keyId"]).hex()}}
        assert self._cert is not None
        return {CERTIFICATE_ANNOTATION: _pem(self._cert),
                CHAIN_ANNOTATION: "".join(_pem(c) for c in _chain_of(self._cert, self._fulcio_certs)),
                BUNDLE_ANNOTATION: json.dumps(rekor_bundle, separators=(",", ":"))}

    def _scrub(self, text: str) -> str:
        return text.replace(str(self._token), "<the token>")


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _chain_of(leaf: x509.Certificate, certs: List[x509.Certificate]) -> List[x509.Certificate]:
    """The CA certificates above `leaf`, issuer by issuer, from the trusted root's Fulcio CAs: what
    cosign writes as the chain annotation. It only names them; verifiers decide trust themselves."""
    by_subject = {c.subject.rfc4514_string(): c for c in certs}
    chain: List[x509.Certificate] = []
    current = leaf
    while len(chain) < 8:
        parent = by_subject.get(current.issuer.rfc4514_string())
        if parent is None or parent in chain:
            break
        chain.append(parent)
        if parent.issuer == parent.subject:
            break
        current = parent
    return chain


def _causes(err: BaseException) -> List[BaseException]:
    seen: List[BaseException] = []
    todo: List[Any] = [err]
    while todo and len(seen) < 8:
        item = todo.pop(0)
        if isinstance(item, BaseException) and item not in seen:
            seen.append(item)
            todo += [item.__cause__, item.__context__, *item.args]
    return seen


def _http_answer(err: BaseException) -> Optional["requests.Response"]:
    """The HTTP error answer somewhere in `err`'s causes, if a service gave one."""
    import requests

    for cause in _causes(err):
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            return cause.response
    return None


def _status(err: BaseException) -> int:
    answer = _http_answer(err)
    return answer.status_code if answer is not None else 0


def _transient(err: BaseException) -> bool:
    import requests

    status = _status(err)
    return status == 429 or status >= 500 or any(
        isinstance(c, (requests.ConnectionError, requests.Timeout)) for c in _causes(err))


def _reason(err: BaseException, scrub: Callable[[str], str]) -> str:
    """What went wrong, in one line: the HTTP status and the service's message, or the error. A service
    may quote what it was sent: `scrub` takes the token out before the text is cut short, since a cut
    token would no longer be found whole."""
    status = _status(err)
    text = clean_text(scrub(str(err)), 200) or type(err).__name__
    if status:
        said = _service_message(err, scrub)
        return f"HTTP {status}" + ("" if str(status) in text else f" ({text})") + (f": {said}" if said else "")
    return text


def _service_message(err: BaseException, scrub: Callable[[str], str]) -> str:
    """The `message` of a Fulcio or Rekor error answer ({"code": …, "message": …}), bounded, or ""."""
    answer = _http_answer(err)
    if answer is None:
        return ""
    try:
        doc = json.loads(answer.content[:4096])
    except ValueError:
        return ""
    message = doc.get("message") if isinstance(doc, dict) else None
    return clean_text(scrub(message), 200) if isinstance(message, str) else ""


# --- opening ---------------------------------------------------------------------------------------------
def open_keyless(request: "SignerRequest", environ: Mapping[str, str], offline: bool) -> KeylessSigner:
    """The signer for `request`: its token read and checked, its instance's signing config loaded.
    Nothing is sent to Fulcio yet (see KeylessSigner.prepare)."""
    try:
        from sigstore.sign import SigningContext
    except ImportError:
        raise UsageError("keyless signing needs sigstore-python: pip install 'pyko-images[keyless]'") from None
    token, source, redetect = _identity_token(request.identity_token, environ)
    config = _trust_config(request.trust_config, offline)
    if request.legacy:
        config.force_tlog_version = 1   # the legacy forms carry Rekor v1's SET
    try:
        context = SigningContext.from_trust_config(config)
        fulcio_certs = config.trusted_root.get_fulcio_certs()
    except Exception as err:  # noqa: BLE001 - sigstore's config errors
        hint = "; the legacy format needs a Rekor v1 log: use --signature-format bundle" if request.legacy else ""
        raise UsageError(f"the Sigstore signing config cannot be used: {clean_text(err, 200)}{hint}") from None
    return KeylessSigner(context, token, source, fulcio_certs, redetect)


def _identity_token(given: str, environ: Mapping[str, str]) -> Tuple[Any, str, Optional[Callable[[], Any]]]:
    """(IdentityToken, where it came from, how to get a fresh one or None)."""
    if given:
        if os.path.isfile(given):
            raw = read_capped(given, MAX_TOKEN, "the identity token file").decode("utf-8", "replace").strip()
            return _parsed(raw, f"--identity-token file {given}"), f"--identity-token file {given}", None
        return _parsed(given.strip(), "--identity-token"), "--identity-token", None
    if environ.get("SIGSTORE_ID_TOKEN"):
        return _parsed(environ["SIGSTORE_ID_TOKEN"].strip(), "SIGSTORE_ID_TOKEN"), "SIGSTORE_ID_TOKEN", None

    def ambient() -> Any:
        return _parsed(_detect(), "the CI's ambient credential")

    return ambient(), "the CI's ambient credential", ambient


def _detect() -> str:
    from sigstore.oidc import IdentityError, detect_credential

    try:
        raw = detect_credential()
    except IdentityError as err:
        raise UsageError(f"the CI's OIDC token could not be had: {clean_text(err, 200)}") from None
    if not raw:
        raise UsageError(NO_TOKEN)
    return raw


def _parsed(raw: str, source: str) -> Any:
    from sigstore.oidc import IdentityError, IdentityToken

    if not raw:
        raise UsageError(f"{source} is empty: " + NO_TOKEN.split(": ", 1)[1])
    try:
        return IdentityToken(raw)
    except IdentityError:
        why = "has expired (or is not valid yet)" if _outside_its_time(raw) else \
            "is not an OIDC identity token for Sigstore (a JWT with audience 'sigstore' and iss, sub, iat, exp)"
        raise UsageError(f"the token from {source} {why}; get a fresh token from the CI") from None


def _outside_its_time(raw: str) -> bool:
    """Whether the token's own exp/nbf claims put now outside its lifetime: only to word the
    message (sigstore-python has already refused the token, and says no more than "malformed")."""
    try:
        part = raw.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        now = time.time()
        return float(claims.get("exp", now + 1)) <= now or float(claims.get("nbf", now)) > now + 5
    except (IndexError, ValueError, TypeError, AttributeError, RecursionError):
        return False


def _trust_config(path: str, offline: bool) -> Any:
    from sigstore.models import ClientTrustConfig

    if path:
        data = read_capped(path, MAX_TRUST_CONFIG, "the trust config")
        try:
            return ClientTrustConfig.from_json(data.decode("utf-8", "replace"))
        except Exception as err:  # noqa: BLE001 - the file's parse errors are several types
            raise UsageError(f"--trust-config {path} is not a Sigstore client trust config "
                             f"(application/vnd.dev.sigstore.clienttrustconfig.v0.1+json): {clean_text(err, 160)}"
                             ) from None
    try:
        return ClientTrustConfig.production(offline=offline)
    except Exception as err:  # noqa: BLE001 - TUF's and the network's errors
        raise PykoError(f"Sigstore's public-good signing config could not be had through TUF "
                        f"({clean_text(err, 160)}); give --trust-config FILE for another instance") from None

if TYPE_CHECKING:   # checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    from ..signers import Signer

    _checked: Type[Signer] = KeylessSigner

