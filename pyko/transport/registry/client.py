"""A distribution-spec client on requests: one Registry object per registry host.

- Transport: HTTPS verified against SSL_CERT_FILE or the system store (plus
  an extra CA file on request). Plain HTTP only for loopback registries or
  with `insecure`; those try HTTPS first and fall back.
- Auth: a RegistryAuth attached to the client (see auth.py); Authorization is
  never sent to another host on a redirect (requests strips it).
- Retries: connection errors, 5xx and 429 (honouring Retry-After), with
  exponential backoff and jitter, only for requests that are safe to repeat.
  A blob upload is retried as a whole: new session, file rewound.
- Integrity: every manifest and blob pulled is hashed while it streams and
  checked against the digest asked for; pushes compare Docker-Content-Digest.
"""
from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import ssl
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Tuple

import requests
from requests.adapters import HTTPAdapter

from ...errors import PykoError
from ...image import Blob
from ...image import mediatypes
from ...reference import is_loopback
from .auth import RegistryAuth, basic_header
from .credentials import Credentials

ACCEPT = ", ".join([mediatypes.OCI_INDEX, mediatypes.OCI_MANIFEST, mediatypes.DOCKER_LIST,
                    mediatypes.DOCKER_MANIFEST])
MAX_MANIFEST = 4 << 20
USER_AGENT = "pyko"


class RegistryError(PykoError):
    """A registry refused or failed a request; the message says what to do."""

    def __init__(self, message: str, status: int = 0, code: str = ""):
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class TransportOptions:
    insecure: bool = False        # --insecure-registry: plain HTTP and unverified TLS allowed
    ca_file: str = ""             # an extra CA bundle to trust
    retries: int = 4              # attempts after the first
    backoff: float = 0.5          # seconds, doubled each attempt, with jitter
    pool: int = 16                # HTTP connections per registry
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def trust_store(self) -> str:
        """The CA bundle: SSL_CERT_FILE (or REQUESTS_CA_BUNDLE), else the system's,
        else certifi's; plus ca_file."""
        base = (self.environ.get("SSL_CERT_FILE") or self.environ.get("REQUESTS_CA_BUNDLE")
                or ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().openssl_cafile)
        if not base or not os.path.isfile(base):
            import certifi

            base = certifi.where()
        if not self.ca_file:
            return base
        if not os.path.isfile(self.ca_file):
            raise PykoError(f"CA file {self.ca_file} does not exist")
        fd, combined = tempfile.mkstemp(prefix="pyko-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as out:
            for path in (base, self.ca_file):
                with open(path, "rb") as f:
                    out.write(f.read().rstrip(b"\n") + b"\n")
        return combined


def api_host(registry: str) -> str:
    return "registry-1.docker.io" if registry == "docker.io" else registry


def _error_details(resp: requests.Response) -> Tuple[str, str]:
    """(code, message) from a distribution error body, if it has one."""
    try:
        errors = resp.json().get("errors") or []
    except ValueError:
        return "", ""
    if not errors:
        return "", ""
    first = errors[0]
    return str(first.get("code", "")), str(first.get("message", ""))


def _retry_after(resp: Optional[requests.Response]) -> Optional[float]:
    value = resp.headers.get("Retry-After") if resp is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Registry:
    """One registry host: its session, its scheme, its auth."""

    def __init__(self, registry: str, credentials: Credentials, options: TransportOptions):
        self.registry = registry
        self.options = options
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        adapter = HTTPAdapter(pool_connections=options.pool, pool_maxsize=options.pool)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        # Passed on every request: requests would otherwise let REQUESTS_CA_BUNDLE
        # or CURL_CA_BUNDLE from the environment replace it, dropping --registry-ca-file.
        self.verify = False if options.insecure else options.trust_store()
        self.plain_http_allowed = options.insecure or is_loopback(registry)
        self.auth = RegistryAuth(registry, credentials, self._fetch_token)
        self.base_url = ""
        self.warnings: list = []   # Warning: 299 headers, for the user
        self._ping_lock = threading.Lock()
        if options.insecure:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    # --- connection ------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, url, verify=self.verify, **kwargs)

    def connect(self) -> None:
        """Reach the registry now (it is otherwise reached on first use)."""
        self._ping()

    def _ping(self) -> None:
        """GET /v2/ once: pick the scheme and learn the auth challenge."""
        with self._ping_lock:
            if self.base_url:
                return
            host = api_host(self.registry)
            schemes = ["https", "http"] if self.plain_http_allowed else ["https"]
            last_error: Optional[Exception] = None
            for scheme in schemes:
                try:
                    resp = self._with_retries(lambda: self._send("GET", f"{scheme}://{host}/v2/"))
                except requests.exceptions.SSLError as err:
                    if "CERTIFICATE_VERIFY_FAILED" in str(err):
                        raise RegistryError(
                            f"the TLS certificate of {self.registry} is not trusted: add its CA with "
                            "--registry-ca-file (or SSL_CERT_FILE), or use --insecure-registry") from None
                    last_error = err
                    continue
                except requests.exceptions.ConnectionError as err:
                    last_error = err
                    continue
                if resp.status_code == 401:
                    self.auth.learn(resp.headers.get("WWW-Authenticate", ""))
                elif resp.status_code >= 400 and resp.status_code != 404:
                    raise self._error(resp, "ping")
                self.base_url = f"{scheme}://{host}"
                return
            reason = _short_reason(last_error)
            hint = "" if self.plain_http_allowed else \
                " (plain HTTP is used only for loopback registries or with --insecure-registry)"
            raise RegistryError(f"cannot reach registry {self.registry}: {reason}{hint}")

    def _with_retries(self, send: Callable[[], requests.Response]) -> requests.Response:
        """Run `send` again on connection errors, 5xx and 429, with backoff and jitter."""
        attempt = 0
        while True:
            resp = None
            try:
                resp = send()
                if resp.status_code < 500 and resp.status_code != 429:
                    return resp
            except requests.exceptions.SSLError:
                raise  # a TLS failure is an answer, not a transient error (SSLError is a ConnectionError)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
                if attempt >= self.options.retries:
                    raise
            else:
                if attempt >= self.options.retries:
                    return resp
            delay = self.options.backoff * (2 ** attempt)
            delay = _retry_after(resp) or delay * (0.5 + random.random())
            time.sleep(min(delay, 60.0))
            attempt += 1

    def request(self, method: str, path: str, scopes: Iterable[str], *, headers: Optional[dict] = None,
                data=None, stream: bool = False, params=None, idempotent: bool = True,
                allow_redirects: bool = True) -> requests.Response:
        """An authorised request to this registry. `path` is /v2/... or a URL the
        registry gave (a Location). A 401 widens the scopes and tries once more."""
        self._ping()
        url = urllib.parse.urljoin(self.base_url + "/", path)
        scopes = set(scopes)
        for attempt in range(2):
            hdrs = dict(headers or {})
            authorization = self.auth.header(scopes)
            if authorization:
                hdrs["Authorization"] = authorization

            def send(body=data):
                payload = body() if callable(body) else body
                return self._send(method, url, headers=hdrs, data=payload, stream=stream, params=params,
                                  timeout=(30, 300), allow_redirects=allow_redirects)

            try:
                resp = self._with_retries(send) if idempotent else send()
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
                raise RegistryError(f"registry {self.registry} did not answer {method} {_path_of(url)}: "
                                    f"{_short_reason(err)} (after {self.options.retries} retries)") from None
            if resp.status_code != 401 or attempt == 1:
                return resp
            challenge = resp.headers.get("WWW-Authenticate", "")
            if not challenge:
                return resp
            self.auth.learn(challenge)
            scopes |= set(RegistryAuth.scopes_from(challenge))
            if callable(data):
                continue  # the body factory makes a fresh body for the retry
            if hasattr(data, "seek"):
                data.seek(0)
        return resp

    def _fetch_token(self, challenge, scopes, creds: Credentials) -> Tuple[str, int]:
        realm = challenge.params.get("realm", "")
        parsed = urllib.parse.urlparse(realm)
        if parsed.scheme not in ("https", "http") or not parsed.netloc:
            raise RegistryError(f"{self.registry} sent a token realm that is not a URL: {realm!r}")
        if parsed.scheme == "http" and not (self.options.insecure or is_loopback(parsed.netloc)):
            raise RegistryError(f"{self.registry} wants credentials sent to {realm} over plain HTTP; "
                                "refusing (use --insecure-registry if you trust this network)")
        service = challenge.params.get("service", "")
        form = {"service": service, "scope": " ".join(scopes), "client_id": USER_AGENT}
        resp = None
        if creds.identity_token:
            resp = self._with_retries(lambda: self._send("POST", realm, data={
                **form, "grant_type": "refresh_token", "refresh_token": creds.identity_token}))
            if resp.status_code == 404:
                resp = None  # an endpoint without the OAuth2 POST: use GET
        if resp is None:
            headers = {}
            if creds.username or creds.password:
                headers["Authorization"] = basic_header(creds.username, creds.password)
            params = [("service", service)] + [("scope", s) for s in scopes]
            resp = self._with_retries(lambda: self._send("GET", realm, params=params, headers=headers))
        if resp.status_code in (401, 403):
            who = "anonymous access" if creds.anonymous else "the credentials"
            raise RegistryError(f"authentication to {self.registry} failed: {who} were refused by its token "
                                f"service; check them with `pyko login {self.registry}`", resp.status_code)
        if resp.status_code != 200:
            raise RegistryError(f"the token service of {self.registry} answered {resp.status_code}",
                                resp.status_code)
        try:
            body = resp.json()
        except ValueError:
            raise RegistryError(f"the token service of {self.registry} did not answer JSON") from None
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RegistryError(f"the token service of {self.registry} gave no token")
        return token, int(body.get("expires_in") or 60)

    # --- errors ----------------------------------------------------------
    def _error(self, resp: requests.Response, what: str, repo: str = "") -> RegistryError:
        code, message = _error_details(resp)
        status = resp.status_code
        where = f"{self.registry}/{repo}" if repo else self.registry
        if status == 401:
            text = (f"authentication to {self.registry} failed for {what}: check your credentials "
                    f"(`pyko login {self.registry}`)")
            if not self.auth.credentials.anonymous:
                text += "; if they are right, the repository may not exist or you may lack access to it"
        elif status == 403 or code == "DENIED":
            text = f"access to {where} denied for {what}: your credentials lack the permission it needs"
        elif code == "NAME_UNKNOWN":
            text = f"repository {where} does not exist ({what})"
        elif code == "MANIFEST_UNKNOWN" or (status == 404 and "manifest" in what):
            text = f"{what}: not found in {where}"
        elif status == 429:
            text = f"{self.registry} is rate limiting requests ({what}); try again later"
        else:
            text = f"{self.registry} answered {status} to {what}"
        if message and message.lower() not in text.lower():
            text += f" ({code}: {message})" if code else f" ({message})"
        return RegistryError(text, status, code)

    def check(self, resp: requests.Response, what: str, repo: str, ok: Iterable[int]) -> requests.Response:
        if resp.status_code not in tuple(ok):
            raise self._error(resp, what, repo)
        warning = resp.headers.get("Warning", "")
        if warning.startswith("299") and warning not in self.warnings:
            self.warnings.append(warning)
        return resp

    # --- manifests --------------------------------------------------------
    def get_manifest(self, repo: str, ident: str) -> Tuple[bytes, str, str]:
        """(bytes, media type, digest). The digest is of the bytes received and,
        when `ident` is a digest, must equal it."""
        resp = self.request("GET", f"/v2/{repo}/manifests/{ident}", [f"repository:{repo}:pull"],
                            headers={"Accept": ACCEPT}, stream=True)
        self.check(resp, f"manifest {repo}:{ident}" if ":" not in ident else f"manifest {repo}@{ident}",
                   repo, [200])
        data = resp.raw.read(MAX_MANIFEST + 1, decode_content=True)
        if len(data) > MAX_MANIFEST:
            raise RegistryError(f"the manifest {repo}:{ident} is over 4 MiB; refusing it")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if ident.startswith("sha256:") and digest != ident:
            raise RegistryError(f"{self.registry}/{repo}@{ident}: the registry sent a manifest whose "
                                f"digest is {digest}; refusing it")
        header_digest = resp.headers.get("Docker-Content-Digest", "")
        if header_digest.startswith("sha256:") and header_digest != digest:
            raise RegistryError(f"{self.registry}/{repo}:{ident}: Docker-Content-Digest {header_digest} "
                                f"does not match the bytes received ({digest})")
        media_type = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
        try:
            body_type = json.loads(data).get("mediaType", "")
        except ValueError:
            raise RegistryError(f"{self.registry}/{repo}:{ident} is not a JSON manifest") from None
        if body_type and media_type and body_type != media_type:
            raise RegistryError(f"{self.registry}/{repo}:{ident}: Content-Type {media_type} does not match "
                                f"the manifest's mediaType {body_type}")
        return data, body_type or media_type, digest

    def head_manifest(self, repo: str, ident: str, scopes=None) -> Optional[str]:
        resp = self.request("HEAD", f"/v2/{repo}/manifests/{ident}", scopes or [f"repository:{repo}:pull"],
                            headers={"Accept": ACCEPT})
        if resp.status_code == 404:
            return None
        self.check(resp, f"manifest {repo}:{ident}", repo, [200])
        return resp.headers.get("Docker-Content-Digest", "")

    def put_manifest(self, repo: str, ident: str, data: bytes, media_type: str) -> str:
        resp = self.request("PUT", f"/v2/{repo}/manifests/{ident}", [f"repository:{repo}:pull,push"],
                            headers={"Content-Type": media_type}, data=data)
        self.check(resp, f"pushing manifest {repo}:{ident}", repo, [200, 201])
        local = "sha256:" + hashlib.sha256(data).hexdigest()
        remote = resp.headers.get("Docker-Content-Digest", "")
        if remote and remote != local:
            raise RegistryError(f"{self.registry}/{repo}: the registry stored manifest {ident} as {remote}, "
                                f"but pyko sent {local}")
        return local

    # --- blobs -------------------------------------------------------------
    def blob_exists(self, repo: str, digest: str) -> bool:
        resp = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", [f"repository:{repo}:pull,push"])
        if resp.status_code == 404:
            return False
        self.check(resp, f"checking blob {digest[:19]}", repo, [200])
        return True

    def fetch_blob(self, repo: str, digest: str, size: int, dest: str) -> None:
        """Stream a blob to `dest` (atomically), checking its size and digest."""
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", [f"repository:{repo}:pull"], stream=True)
        self.check(resp, f"blob {digest[:19]}", repo, [200])
        sha = hashlib.sha256()
        got = 0
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".blob-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in resp.iter_content(1 << 20):
                    got += len(chunk)
                    if got > size:
                        raise RegistryError(f"{self.registry}/{repo}: blob {digest} is larger than its "
                                            f"descriptor says ({size} bytes); refusing it")
                    sha.update(chunk)
                    out.write(chunk)
            if got != size or "sha256:" + sha.hexdigest() != digest:
                raise RegistryError(f"{self.registry}/{repo}: blob {digest} arrived with the wrong "
                                    f"content ({got} bytes, sha256:{sha.hexdigest()[:12]}…); refusing it")
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def read_blob(self, repo: str, digest: str, size: int, limit: int = 16 << 20) -> bytes:
        """A small blob (a signature payload, an SBOM) into memory, checked."""
        if size > limit:
            raise RegistryError(f"{self.registry}/{repo}: blob {digest} is {size} bytes; too big to read here")
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", [f"repository:{repo}:pull"])
        self.check(resp, f"blob {digest[:19]}", repo, [200])
        data = resp.content
        if len(data) != size or "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise RegistryError(f"{self.registry}/{repo}: blob {digest} arrived with the wrong content")
        return data

    def find_manifest(self, repo: str, ident: str) -> Optional[Tuple[bytes, str, str]]:
        """get_manifest, or None when the registry has no such manifest."""
        try:
            return self.get_manifest(repo, ident)
        except RegistryError as err:
            if err.status == 404:
                return None
            raise

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> Optional[str]:
        """Ask for a cross-repository mount: None when mounted, else the upload
        Location the registry opened instead (202)."""
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/",
                            [f"repository:{repo}:pull,push", f"repository:{from_repo}:pull"],
                            params={"mount": digest, "from": from_repo}, headers={"Content-Length": "0"},
                            idempotent=False)
        self.check(resp, f"mounting blob {digest[:19]}", repo, [201, 202])
        return None if resp.status_code == 201 else resp.headers.get("Location")

    def upload_blob(self, repo: str, blob: Blob, location: Optional[str] = None) -> None:
        """Monolithic upload: POST a session (or use `location`), then PUT the
        bytes streamed from the blob with ?digest=. Retried as a whole, since a
        half-used upload session cannot be replayed."""
        desc = blob.descriptor
        scopes = [f"repository:{repo}:pull,push"]
        for attempt in range(self.options.retries + 1):
            try:
                if location is None:
                    resp = self.request("POST", f"/v2/{repo}/blobs/uploads/", scopes,
                                        headers={"Content-Length": "0"}, idempotent=False)
                    self.check(resp, f"starting upload of blob {desc.digest[:19]}", repo, [202])
                    location = resp.headers.get("Location")
                    if not location:
                        raise RegistryError(f"{self.registry} opened an upload without a Location header")
                base = urllib.parse.urljoin(self.base_url + "/", location)
                sep = "&" if urllib.parse.urlparse(base).query else "?"
                url = f"{base}{sep}digest={urllib.parse.quote(desc.digest)}"
                with blob.open() as body:
                    resp = self.request("PUT", url, scopes, data=body, idempotent=False, headers={
                        "Content-Type": "application/octet-stream", "Content-Length": str(desc.size)})
                if resp.status_code >= 500 or resp.status_code == 429:
                    raise _Retryable(resp)
                self.check(resp, f"uploading blob {desc.digest[:19]}", repo, [201])
                return
            except (_Retryable, requests.exceptions.ConnectionError, requests.exceptions.Timeout) as err:
                if attempt >= self.options.retries:
                    if isinstance(err, _Retryable):
                        raise self._error(err.resp, f"uploading blob {desc.digest[:19]}", repo) from None
                    raise RegistryError(f"uploading blob {desc.digest[:19]} to {self.registry}/{repo} "
                                        f"failed: {_short_reason(err)}") from None
                location = None  # a fresh session for the next try
                delay = _retry_after(getattr(err, "resp", None)) or self.options.backoff * (2 ** attempt)
                time.sleep(min(delay * (0.5 + random.random()), 60.0))


class _Retryable(Exception):
    def __init__(self, resp: requests.Response):
        super().__init__(resp.status_code)
        self.resp = resp


def _path_of(url: str) -> str:
    return urllib.parse.urlparse(url).path


def _short_reason(err: Optional[Exception]) -> str:
    text = str(err) if err else "no answer"
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host",
                   "Temporary failure in name resolution", "WRONG_VERSION_NUMBER"):
        if marker in text:
            return marker.lower().replace("_", " ")
    return text.split("(Caused by", 1)[0].strip()[:200]
