"""HTTP for registries: one session per registry, TLS trust, origins, bounded reads.

- Trust: HTTPS verified against SSL_CERT_FILE (or REQUESTS_CA_BUNDLE), else the
  system store, else certifi, plus `--registry-ca-file`. Combined bundles are
  written once, content-addressed, under pyko's cache: no file per run.
- Every request is streamed and never follows redirects by itself: `send`
  follows them for GET/HEAD only, checking each target (plain HTTP only where
  the registry itself may use it) and sending the Authorization header only
  to the registry's own origin (scheme, host and port).
- Bodies are read through `read_bounded`, which stops at a cap and turns a
  dropped or truncated body into a Transient for the retry policy.
"""
from __future__ import annotations

import errno
import hashlib
import os
import ssl
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Tuple, Union

import requests
from requests.adapters import HTTPAdapter

from ...errors import PykoError, RegistryError
from ...reference import is_loopback
from ...util.atomic import write_bytes
from ...util.files import read_capped
from .retry import Transient, parse_retry_after, retryable_status

USER_AGENT = "pyko"
MAX_REDIRECTS = 5
CHUNK = 1 << 16
# Errors requests raises while connecting or reading that are worth a retry.
_DROPPED = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)

Origin = Tuple[str, str, int]


MAX_CA_FILE = 16 << 20


@dataclass(frozen=True)
class TransportOptions:
    insecure: bool = False        # --insecure-registry: plain HTTP and unverified TLS allowed
    ca_file: str = ""             # an extra CA bundle to trust
    retries: int = 8              # attempts after the first, per operation
    backoff: float = 0.5          # seconds, doubled each attempt, with jitter
    deadline: float = 300.0       # seconds of retrying one operation before giving up
    pool: int = 16                # HTTP connections per registry
    environ: Mapping[str, str] = field(default_factory=dict)   # proxies, SSL_CERT_FILE, DOCKER_CONFIG
    cache_dir: str = ""           # pyko's cache: a CA bundle combined with --registry-ca-file is kept there

    def trust_store(self) -> str:
        """The CA bundle file to verify registries with."""
        base = (self.environ.get("SSL_CERT_FILE") or self.environ.get("REQUESTS_CA_BUNDLE")
                or ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().openssl_cafile)
        if not base or not os.path.isfile(base):
            import certifi

            base = certifi.where()
        if not self.ca_file:
            return base
        if not os.path.isfile(self.ca_file):
            raise PykoError(f"CA file {self.ca_file} does not exist")
        parts = [read_capped(path, MAX_CA_FILE, "CA file").rstrip(b"\n") + b"\n" for path in (base, self.ca_file)]
        combined = b"".join(parts)
        if not self.cache_dir:
            raise PykoError("internal: a registry CA file needs pyko's cache directory")
        directory = os.path.join(self.cache_dir, "ca")
        path = os.path.join(directory, hashlib.sha256(combined).hexdigest() + ".pem")
        if not os.path.isfile(path):
            os.makedirs(directory, exist_ok=True)
            write_bytes(path, combined)
        return path


#: A query string's parameters: a mapping, or (name, value) pairs where a name repeats (scope=…&scope=…).
Params = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]


def origin_of(url: str) -> Origin:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or (443 if parts.scheme == "https" else 80)


def describe(url: str) -> str:
    """A URL as shown to the user: no query (it may hold upload state or tokens)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:200]


def transient_for(resp: requests.Response) -> Optional[Transient]:
    """A Transient when `resp` is an answer worth retrying, else None."""
    if not retryable_status(resp.status_code):
        return None
    why = "rate limited" if resp.status_code == 429 else "the registry answered"
    return Transient(f"{why} {resp.status_code}", resp.status_code,
                     parse_retry_after(resp.headers.get("Retry-After", "")))


def read_bounded(resp: requests.Response, limit: int, what: str, decode: bool = True) -> bytes:
    """At most `limit` bytes of the body; more is a RegistryError, a cut-off body a Transient."""
    out = bytearray()
    try:
        for chunk in _chunks(resp, decode):
            out += chunk
            if len(out) > limit:
                raise RegistryError(f"{what}: the registry sent more than {limit} bytes; refusing it")
    except _DROPPED as err:
        raise Transient(f"the body was cut off ({short_reason(err)})") from None
    finally:
        resp.close()
    expected = resp.headers.get("Content-Length", "")
    if not decode and expected.isdigit() and int(expected) != len(out):
        raise Transient(f"the body was cut off ({len(out)} of {expected} bytes)")
    return bytes(out)


def _chunks(resp: requests.Response, decode: bool) -> Iterator[bytes]:
    if decode:
        return resp.iter_content(CHUNK)
    return _raw_chunks(resp)


def _raw_chunks(resp: requests.Response) -> Iterator[bytes]:
    """The body exactly as sent (no Content-Encoding decoding: content is checked by digest)."""
    import urllib3.exceptions as u3

    try:
        yield from resp.raw.stream(CHUNK, decode_content=False)
    except (u3.ProtocolError, u3.ReadTimeoutError, u3.SSLError, OSError) as err:
        raise requests.exceptions.ChunkedEncodingError(short_reason(err)) from None


def causes(err: Optional[BaseException]) -> Iterator[BaseException]:
    """`err` and what lies under it: requests wraps urllib3, which wraps the socket's or ssl's
    error (in __cause__, __context__, `reason` or the arguments)."""
    seen, todo = set(), [err]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


def _reason_of(item: BaseException) -> str:
    """What a network error is, by its type (never by its text); "" when not one pyko names."""
    import http.client
    import socket
    import ssl

    import urllib3.exceptions as u3

    if isinstance(item, ssl.SSLCertVerificationError):
        return "certificate verify failed"
    if isinstance(item, ssl.SSLError) and item.reason == "WRONG_VERSION_NUMBER":
        return "wrong version number"
    if isinstance(item, socket.gaierror):
        return "temporary failure in name resolution" if item.errno == socket.EAI_AGAIN \
            else "name or service not known"
    kinds = ((ConnectionRefusedError, "connection refused"), (ConnectionResetError, "connection reset"),
             ((TimeoutError, socket.timeout, u3.TimeoutError), "timed out"),
             (http.client.RemoteDisconnected, "remote end closed connection"),
             (http.client.IncompleteRead, "incompleteread"), (ConnectionAbortedError, "connection aborted"))
    for kind, reason in kinds:
        if isinstance(item, kind):
            return reason
    if isinstance(item, OSError) and item.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "no route to host"
    return ""


#: short_reason()s that mean no connection was made at all.
UNREACHABLE = ("name or service not known", "connection refused", "no route to host")


def short_reason(err: Optional[BaseException]) -> str:
    """A few words for the user on why a request got no (whole) answer: the innermost error
    pyko can name (urllib3 calls a refused connection a NewConnectionError, a kind of timeout)."""
    reasons = [reason for reason in map(_reason_of, causes(err)) if reason]
    if reasons:
        return reasons[-1]
    text = str(err) if err else "no answer"
    return text.split("(Caused by", 1)[0].strip()[:160]


class HttpSession:
    """requests.Session with pyko's rules: streamed, verified, redirects checked."""

    def __init__(self, options: TransportOptions, plain_http_allowed: bool):
        self.options = options
        self.plain_http_allowed = plain_http_allowed
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # Content is checked by digest; a compressed transfer encoding could only hide a bomb.
        self.session.headers["Accept-Encoding"] = "identity"
        adapter = HTTPAdapter(pool_connections=options.pool, pool_maxsize=options.pool, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        # Passed on every request: requests would otherwise let REQUESTS_CA_BUNDLE
        # or CURL_CA_BUNDLE from the environment replace it, dropping --registry-ca-file.
        self.verify = False if options.insecure else options.trust_store()
        if options.insecure:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def check_target(self, url: str) -> None:
        """Refuse a URL pyko must not contact: not HTTP(S), or plain HTTP where it is not allowed."""
        scheme, host, _ = origin_of(url)
        if scheme not in ("https", "http") or not host:
            raise RegistryError(f"the registry pointed pyko at {describe(url)!r}, which is not an HTTP(S) URL")
        if scheme == "http" and not (self.plain_http_allowed or is_loopback(host)):
            raise RegistryError(f"the registry pointed pyko at plain-HTTP {describe(url)}; refusing "
                                "(plain HTTP is used only for loopback registries or with --insecure-registry)")

    def send(self, method: str, url: str, headers: Mapping[str, str], body_factory: Optional[Callable[[], Any]] = None,
             credentials_for: Optional[Origin] = None, params: Params = None) -> requests.Response:
        """One request, following redirects for GET/HEAD. `headers` may hold
        Authorization: it goes only to `credentials_for`, the registry's origin.
        Connection failures raise Transient; a TLS failure raises RegistryError."""
        for _ in range(MAX_REDIRECTS + 1):
            self.check_target(url)
            sent = dict(headers)
            if credentials_for is None or origin_of(url) != credentials_for:
                sent.pop("Authorization", None)
            body = body_factory() if body_factory else None
            try:
                resp = self.session.request(method, url, headers=sent, data=body, params=params, stream=True,
                                            timeout=(15, 120), verify=self.verify, allow_redirects=False)
            except requests.exceptions.SSLError as err:
                raise _tls_error(url, err) from None
            except _DROPPED as err:
                reason = short_reason(err)
                raise Transient(reason, unreachable=reason in UNREACHABLE) from None
            finally:
                if body is not None and hasattr(body, "close"):
                    body.close()
            location = resp.headers.get("Location", "")
            if method not in ("GET", "HEAD") or resp.status_code not in (301, 302, 303, 307, 308) or not location:
                return resp
            resp.close()
            target = urllib.parse.urljoin(url, location)
            if url.startswith("https:") and not target.startswith("https:"):
                # A downgrade: the redirect would leave TLS (and could reach a plain-HTTP service on
                # this machine). Followed never, whatever the target host.
                raise RegistryError(f"{method} {describe(url)}: the registry redirected from HTTPS to "
                                    f"{describe(target)}, which pyko does not follow")
            url, params = target, None
        raise RegistryError(f"{method} {describe(url)}: more than {MAX_REDIRECTS} redirects")


#: OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH: the certificate verified but names another host.
HOSTNAME_MISMATCH = 62


class TlsFailure(RegistryError):
    """TLS failed: an answer, never retried. `untrusted` when the certificate did not verify."""

    def __init__(self, message: str, untrusted: bool):
        super().__init__(message)
        self.untrusted = untrusted


def _tls_error(url: str, err: Exception) -> TlsFailure:
    host = urllib.parse.urlsplit(url).netloc
    failures = [item for item in causes(err) if isinstance(item, ssl.SSLCertVerificationError)]
    if any(item.verify_code == HOSTNAME_MISMATCH for item in failures):
        return TlsFailure(f"the TLS certificate of {host} is for another name: check the registry's host name "
                          "(--insecure-registry skips the check, for testing only)", True)
    if failures:
        return TlsFailure(f"the TLS certificate of {host} is not trusted: add its CA with "
                          "--registry-ca-file (or SSL_CERT_FILE), or use --insecure-registry", True)
    return TlsFailure(f"TLS with {host} failed: {short_reason(err)}", False)
