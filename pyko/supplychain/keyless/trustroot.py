"""The trusted root for keyless verification: which Fulcio CAs, Rekor logs and CT logs to trust.

The format is Sigstore's (`application/vnd.dev.sigstore.trustedroot+json`), the file
cosign takes with `--trusted-root`. Without one, pyko uses the public-good root that
the `sigstore` package on PyPI ships (pip install 'pyko[keyless]'), refreshed through
its TUF client when the network allows and used as shipped (or as last refreshed)
when it does not. Every key and CA has a validity window; a check at a time outside
it fails.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ...errors import MalformedInput, UsageError
from ...util.files import read_capped

MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json"
MAX_ROOT = 4 << 20
PUBLIC_GOOD_TUF = "https://tuf-repo-cdn.sigstore.dev"
REFRESH_SECONDS = 10
UTC = datetime.timezone.utc


@dataclass(frozen=True)
class Window:
    start: Optional[datetime.datetime]
    end: Optional[datetime.datetime]

    def holds(self, when: datetime.datetime) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None or when <= self.end)


@dataclass(frozen=True)
class LogKey:
    key: object                     # a cryptography public key
    window: Window
    url: str


@dataclass(frozen=True)
class Authority:
    chain: Tuple[x509.Certificate, ...]     # leaf-most first, the root last
    window: Window


@dataclass(frozen=True)
class TrustedRoot:
    authorities: Tuple[Authority, ...]
    tlogs: Mapping[bytes, LogKey]           # by log ID: SHA-256 of the key's DER SubjectPublicKeyInfo
    ctlogs: Mapping[bytes, LogKey]
    source: str

    @classmethod
    def from_file(cls, path: str) -> "TrustedRoot":
        return cls.from_json(read_capped(path, MAX_ROOT, "the trusted root"), path)

    @classmethod
    def from_json(cls, data: bytes, where: str) -> "TrustedRoot":
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            raise MalformedInput(f"trusted root {where} is not JSON") from None
        if not isinstance(doc, dict) or not str(doc.get("mediaType", "")).startswith(MEDIA_TYPE):
            raise MalformedInput(f"{where} is not a Sigstore trusted root ({MEDIA_TYPE})")
        try:
            authorities = tuple(_authority(ca) for ca in doc.get("certificateAuthorities") or [])
            tlogs = dict(_log(entry) for entry in doc.get("tlogs") or [])
            ctlogs = dict(_log(entry) for entry in doc.get("ctlogs") or [])
        except (KeyError, TypeError, ValueError, binascii.Error) as err:
            raise MalformedInput(f"trusted root {where} has a malformed entry ({type(err).__name__}: "
                                 f"{str(err)[:80]})") from None
        return cls(authorities, tlogs, ctlogs, where)


def _time(text: Optional[str]) -> Optional[datetime.datetime]:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _window(obj: Mapping) -> Window:
    valid = obj.get("validFor") or {}
    return Window(_time(valid.get("start")), _time(valid.get("end")))


def _authority(ca: Mapping) -> Authority:
    certs = tuple(x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                  for c in ca["certChain"]["certificates"])
    if not certs:
        raise ValueError("a certificate authority without certificates")
    return Authority(certs, _window(ca))


def _log(entry: Mapping) -> Tuple[bytes, LogKey]:
    public = entry["publicKey"]
    der = base64.b64decode(public["rawBytes"])
    key = serialization.load_der_public_key(der)
    log_id = base64.b64decode(entry["logId"]["keyId"]) if entry.get("logId") else hashlib.sha256(der).digest()
    return log_id, LogKey(key, _window(public), str(entry.get("baseUrl", "")))


# --- the public-good root, via the sigstore package ------------------------------------------
_lock = threading.Lock()
_cached: Dict[str, TrustedRoot] = {}


def load_trusted_root(path: str = "", offline: bool = False) -> TrustedRoot:
    """`path`'s root, else the public-good one (refreshed through TUF when the network allows,
    unless `offline`)."""
    if path:
        return TrustedRoot.from_file(path)
    with _lock:
        if "public-good" not in _cached:
            _cached["public-good"] = TrustedRoot.from_json(_public_good_json(offline), "Sigstore's public-good root")
        return _cached["public-good"]


def _public_good_json(offline: bool) -> bytes:
    try:
        import sigstore  # noqa: F401  (only to know it is there)
    except ImportError:
        raise UsageError("keyless verification needs Sigstore's trusted root: pip install 'pyko[keyless]' "
                         "for the public-good one, or give --trusted-root FILE") from None
    if not offline:
        refreshed = _refresh_through_tuf()
        if refreshed:
            return refreshed
    return _shipped()


def _refresh_through_tuf() -> bytes:
    """The root from sigstore's TUF client, online; b"" when the network or TUF is not there in time."""
    result: List[bytes] = []

    def fetch() -> None:
        try:
            from sigstore._internal.tuf import TrustUpdater

            with open(TrustUpdater(PUBLIC_GOOD_TUF, False).get_trusted_root_path(), "rb") as f:
                result.append(f.read(MAX_ROOT))
        except Exception:  # noqa: BLE001 - any failure to refresh means: use the root that was shipped
            pass

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(REFRESH_SECONDS)
    return result[0] if result else b""


def _shipped() -> bytes:
    from importlib import resources

    store = resources.files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "trusted_root.json"
    return store.read_bytes()
