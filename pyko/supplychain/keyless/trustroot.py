"""The trusted root for keyless verification: which Fulcio CAs, Rekor logs and CT logs to trust.

The format is Sigstore's (`application/vnd.dev.sigstore.trustedroot+json`), the file
cosign takes with `--trusted-root`. pyko reads it twice, from the same bytes: its own
reader keeps every key's and CA's validity window (for the legacy `.sig` checks and
for the window rules pyko adds to bundles, as sigstore-go applies them), and
sigstore-python's public `TrustedRoot.from_file` makes the object its Verifier takes.

Without --trusted-root, the root is Sigstore's public-good one: refreshed through TUF
(python-tuf's public Updater, bootstrapped from the TUF root that the sigstore package
ships, its state kept in pyko's cache) within REFRESH_SECONDS when the network allows,
else the trusted_root.json that the sigstore package ships. sigstore-python's public API
hands out its refreshed root only as an object, never as JSON, so pyko cannot use that
path and still know the windows; a refresh that cannot run is said once on stderr, with
its reason, never swallowed.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ...errors import MalformedInput, UsageError, clean_text
from ...util.files import read_capped

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot as SigstoreTrustedRoot

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
    raw: bytes = field(default=b"", repr=False, compare=False)     # the document, for sigstore-python
    note: str = field(default="", compare=False)    # why the public-good root was not refreshed, if it was not

    @classmethod
    def from_file(cls, path: str) -> "TrustedRoot":
        return cls.from_json(read_capped(path, MAX_ROOT, "the trusted root"), path)

    @classmethod
    def from_json(cls, data: bytes, where: str, note: str = "") -> "TrustedRoot":
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
        return cls(authorities, tlogs, ctlogs, where, bytes(data), note)

    def for_sigstore(self) -> SigstoreTrustedRoot:
        """The same document as sigstore-python's TrustedRoot (its public from_file), for its Verifier."""
        from sigstore.models import TrustedRoot as SigstoreTrustedRoot

        with tempfile.TemporaryDirectory(prefix="pyko-root-") as work:
            path = os.path.join(work, "trusted_root.json")
            with open(path, "wb") as f:
                f.write(self.raw)
            try:
                return SigstoreTrustedRoot.from_file(path)
            except Exception as err:  # noqa: BLE001 - sigstore's own parse errors are several types
                raise MalformedInput(f"sigstore-python cannot read the trusted root {self.source}: "
                                     f"{clean_text(err, 160)}") from None


def _time(text: Optional[str]) -> Optional[datetime.datetime]:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _window(obj: Mapping[str, Any]) -> Window:
    valid = obj.get("validFor") or {}
    return Window(_time(valid.get("start")), _time(valid.get("end")))


def _authority(ca: Mapping[str, Any]) -> Authority:
    certs = tuple(x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
                  for c in ca["certChain"]["certificates"])
    if not certs:
        raise ValueError("a certificate authority without certificates")
    return Authority(certs, _window(ca))


def _log(entry: Mapping[str, Any]) -> Tuple[bytes, LogKey]:
    public = entry["publicKey"]
    der = base64.b64decode(public["rawBytes"])
    key = serialization.load_der_public_key(der)
    log_id = base64.b64decode(entry["logId"]["keyId"]) if entry.get("logId") else hashlib.sha256(der).digest()
    return log_id, LogKey(key, _window(public), str(entry.get("baseUrl", "")))


# --- the public-good root ----------------------------------------------------------------------
_lock = threading.Lock()
_cached: Dict[str, TrustedRoot] = {}


def load_trusted_root(path: str = "", offline: bool = False, cache_dir: str = "") -> TrustedRoot:
    """`path`'s root, else the public-good one (refreshed through TUF unless `offline`; its
    state kept under `cache_dir`). Its `note` says why a refresh did not happen, if it did not."""
    if path:
        return TrustedRoot.from_file(path)
    with _lock:
        if "public-good" not in _cached:
            data, note = _public_good_json(offline, cache_dir)
            _cached["public-good"] = TrustedRoot.from_json(data, "Sigstore's public-good root", note)
        return _cached["public-good"]


def _public_good_json(offline: bool, cache_dir: str) -> Tuple[bytes, str]:
    try:
        import sigstore
    except ImportError:
        raise UsageError("keyless verification needs Sigstore's trusted root: pip install 'pyko-images[keyless]' "
                         "for the public-good one, or give --trusted-root FILE") from None
    if offline:
        return _shipped("trusted_root.json"), ""
    refreshed, why = _refresh_through_tuf(cache_dir)
    if refreshed:
        return refreshed, ""
    return _shipped("trusted_root.json"), (f"Sigstore's trusted root could not be refreshed through TUF ({why}); "
                                           f"using the copy shipped with sigstore {sigstore.__version__}")


def _refresh_through_tuf(cache_dir: str) -> Tuple[bytes, str]:
    """(the root, "") from the TUF repository, or (b"", why not) when that fails or takes too long."""
    result: List[bytes] = []
    failure: List[str] = []

    def fetch() -> None:
        try:
            result.append(_tuf_target(cache_dir, "trusted_root.json"))
        except Exception as err:  # noqa: BLE001 - said to the user as the reason, never swallowed
            failure.append(f"{type(err).__name__}: {clean_text(err, 200)}")

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(REFRESH_SECONDS)
    if result:
        return result[0], ""
    return b"", failure[0] if failure else f"no answer within {REFRESH_SECONDS} s"


def _tuf_target(cache_dir: str, name: str) -> bytes:
    """One target of the public-good TUF repository, verified by python-tuf (its public ngclient API)."""
    # tuf's documented import; its package re-exports Updater without listing it in __all__.
    from tuf.ngclient import Updater  # type: ignore[attr-defined]

    base = os.path.join(cache_dir or tempfile.mkdtemp(prefix="pyko-tuf-"), "sigstore-tuf")
    metadata, targets = os.path.join(base, "metadata"), os.path.join(base, "targets")
    os.makedirs(metadata, exist_ok=True)
    os.makedirs(targets, exist_ok=True)
    # The first time, trust starts from the TUF root the sigstore package ships; after that,
    # from the root this cache holds (which python-tuf updated, checking each new one).
    bootstrap = None if os.path.isfile(os.path.join(metadata, "root.json")) else _shipped("root.json")
    updater = Updater(metadata_dir=metadata, metadata_base_url=PUBLIC_GOOD_TUF, target_dir=targets,
                      target_base_url=PUBLIC_GOOD_TUF + "/targets/", bootstrap=bootstrap)
    updater.refresh()
    info = updater.get_targetinfo(name)
    if info is None:
        raise LookupError(f"the TUF repository has no {name}")
    path = updater.find_cached_target(info) or updater.download_target(info)
    return read_capped(path, MAX_ROOT, "the trusted root")


def _shipped(name: str) -> bytes:
    """A file of the public-good TUF repository as the sigstore package ships it (package data,
    read with importlib.resources: no sigstore module is imported for it)."""
    from importlib import resources

    store = resources.files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / name
    return store.read_bytes()
