"""One registry host: its scheme, its auth, and requests that follow pyko's rules.

`Registry.request` makes one attempt at one request: it pings once (picking
HTTPS, or plain HTTP for loopback registries and --insecure-registry), runs the
auth flow against the registry's own responses only, and turns a retryable
answer into a Transient. Operations on a repository (repository.py) wrap their
attempts in the retry policy (retry.py). Errors become one-line RegistryErrors
whose registry-supplied text has been cleaned of control characters.
"""
from __future__ import annotations

import functools
import json
import threading
import urllib.parse
from typing import Any, Callable, Dict, Hashable, Iterable, List, Mapping, Optional, Tuple, Union

import requests

from ...errors import RegistryError, clean_text, registry_error
from ...image import Blob
from ...reference import DOCKER_HUB, DOCKER_HUB_API, is_loopback
from ...util.progress import Reporter, SilentReporter
from .auth import RegistryAuth
from .credentials import Credentials
from .http import HttpSession, Origin, Params, TlsFailure, TransportOptions, origin_of, read_bounded, transient_for
from .retry import RetryCounter, RetryPolicy, Transient

MAX_ERROR_BODY = 64 << 10

__all__ = ["Registry", "RegistryError", "TransportOptions", "api_host"]


def api_host(registry: str) -> str:
    return DOCKER_HUB_API if registry == DOCKER_HUB else registry


#: A request body: bytes, a blob (opened afresh for each send), or a function making the body.
Body = Union[bytes, Blob, Callable[[], Any], None]


def _body_factory(body: Body) -> Optional[Callable[[], Any]]:
    """A zero-argument function giving a fresh request body (for the 401 re-send)."""
    if body is None or callable(body):
        return body
    if isinstance(body, bytes):
        data = body
        return lambda: data
    return body.open


class KeyedLocks:
    """A lock per key (a blob's digest, say), made on first use; thread-safe."""

    def __init__(self) -> None:
        self._locks: Dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class Registry:
    """One registry host: its session, its scheme, its auth."""

    def __init__(self, registry: str, credentials: Credentials, options: TransportOptions,
                 reporter: Optional[Reporter] = None, counter: Optional[RetryCounter] = None):
        self.registry = registry
        self.reporter: Reporter = reporter or SilentReporter()
        self.options = options
        self.plain_http_allowed = options.insecure or is_loopback(registry)
        self.http = HttpSession(options, self.plain_http_allowed)
        self.policy = RetryPolicy(options.retries, options.backoff, options.deadline, self.reporter.info, counter)
        self.auth = RegistryAuth(registry, credentials, self.http, self.policy)
        self.base_url = ""
        self.origin: Optional[Origin] = None
        self.warnings: List[str] = []   # Warning: 299 headers, for the user
        self._ping_lock = threading.Lock()
        self._blob_locks = KeyedLocks()

    def blob_lock(self, repository: str, digest: str) -> threading.Lock:
        """One lock per blob and repository, so two threads never upload or mount one blob into one
        repository at once: distribution rewrites the blob's link file on each upload, and a manifest
        PUT that reads the file mid-rewrite is refused as naming an unknown blob (seen in the suite with
        the empty config `{}` that every referrer shares)."""
        return self._blob_locks.get((repository, digest))

    @property
    def retries(self) -> int:
        return self.policy.counter.count

    # --- connection ------------------------------------------------------
    def connect(self) -> None:
        """Reach the registry now (it is otherwise reached on first use)."""
        self._ping()

    def _ping(self) -> None:
        """GET /v2/ once: pick the scheme and learn the auth challenge. Its body is never read."""
        with self._ping_lock:
            if self.base_url:
                return
            host = api_host(self.registry)
            schemes = ["https", "http"] if self.plain_http_allowed else ["https"]
            last: Optional[RegistryError] = None
            for scheme in schemes:
                url = f"{scheme}://{host}/v2/"
                try:
                    status, challenge = self.policy.run(f"reaching {self.registry}",
                                                        functools.partial(self._ping_once, url))
                except TlsFailure as err:
                    if err.untrusted or scheme == schemes[-1]:
                        raise
                    last = err
                    continue
                except RegistryError as err:
                    if isinstance(err, Unreachable) and err.unresolved:
                        raise  # no scheme reaches a name that does not resolve
                    last = err
                    if ":" in self.registry:
                        break  # nothing answers on that port: plain HTTP on it would not either
                    continue
                if status == 401 and challenge:
                    self.auth.learn(challenge)
                elif status >= 400 and status not in (401, 404):
                    raise RegistryError(f"{self.registry} answered {status} to GET /v2/", status)
                self.base_url = f"{scheme}://{host}"
                self.origin = origin_of(self.base_url)
                return
            if isinstance(last, Unreachable):
                raise last
            hint = "" if self.plain_http_allowed or not isinstance(last, TlsFailure) else \
                " (plain HTTP is used only for loopback registries or with --insecure-registry)"
            reason = str(last).split(" failed: ", 1)[-1] if last else "no answer"
            raise RegistryError(f"cannot reach registry {self.registry}: {reason}{hint}")

    def _ping_once(self, url: str) -> Tuple[int, str]:
        """One GET /v2/. A registry that has never answered and cannot be connected to (its name does
        not resolve, its port refuses) fails at once: waiting cannot make a mistyped name right."""
        try:
            resp = self.http.send("GET", url, {}, None, None)
        except Transient as err:
            if err.unreachable:
                raise Unreachable(self.registry, err.reason) from None
            raise
        resp.close()
        transient = transient_for(resp)
        if transient:
            raise transient
        return resp.status_code, resp.headers.get("WWW-Authenticate", "")

    def request(self, method: str, path: str, scopes: Iterable[str], *, headers: Optional[Mapping[str, str]] = None,
                body: Body = None, params: Params = None) -> requests.Response:
        """One authorised attempt. `path` is /v2/... or a URL the registry gave
        (a Location). Raises Transient for answers worth retrying."""
        self._ping()
        url = urllib.parse.urljoin(self.base_url + "/", path)
        flow = self.auth.flow(scopes)
        authorization = next(flow)
        while True:
            sent = dict(headers or {})
            if authorization:
                sent["Authorization"] = authorization
            resp = self.http.send(method, url, sent, _body_factory(body), self.origin, params)
            if origin_of(resp.url or url) != self.origin:
                break  # another host's 401 never becomes this registry's challenge
            try:
                authorization = flow.send(resp)
            except StopIteration:
                break
            resp.close()
        transient = transient_for(resp)
        if transient:
            resp.close()
            raise transient
        return resp

    # --- errors ----------------------------------------------------------
    def check(self, resp: requests.Response, what: str, repo: str, ok: Iterable[int]) -> requests.Response:
        if resp.status_code not in tuple(ok):
            raise self.error(resp, what, repo)
        warning = resp.headers.get("Warning", "")
        if warning.startswith("299"):
            warning = clean_text(warning, 200)
            if warning not in self.warnings:
                self.warnings.append(warning)
        return resp

    def error(self, resp: requests.Response, what: str, repo: str = "") -> RegistryError:
        code, message = _error_details(resp)
        status = resp.status_code
        where = f"{self.registry}/{repo}" if repo else self.registry
        if resp.url and self.origin and origin_of(resp.url) != self.origin:
            elsewhere = urllib.parse.urlsplit(resp.url).netloc
            return registry_error(f"{what}: {self.registry} sent pyko to {clean_text(elsewhere, 80)}, which "
                                  f"answered {status}", status)
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
        elif 300 <= status < 400:
            text = f"{self.registry} answered {what} with a redirect pyko does not follow ({status})"
        else:
            text = f"{self.registry} answered {status} to {what}"
        if message and message.lower() not in text.lower():
            text += f" ({code}: {message})" if code else f" ({message})"
        return registry_error(text, status, code)


class Unreachable(RegistryError):
    """No connection to a registry that has not answered in this run; never retried."""

    def __init__(self, registry: str, reason: str):
        self.registry, self.reason = registry, reason
        self.unresolved = reason == "name or service not known"
        host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
        hint = (f"check the host name {host} (in --repo, KO_DOCKER_REPO or the image reference)"
                if self.unresolved else
                f"nothing listens at {registry}: check the address and port, and that the registry is running")
        super().__init__(f"cannot reach registry {registry}: {reason}: {hint}")


def _error_details(resp: requests.Response) -> Tuple[str, str]:
    """(code, message) from a distribution error body, if it has one, cleaned for printing."""
    try:
        data = read_bounded(resp, MAX_ERROR_BODY, "error body")
        errors = json.loads(data).get("errors") or []
        first = errors[0] if isinstance(errors, list) and errors else {}
    except Exception:  # noqa: BLE001 - an error body is only a hint: any failure to read it means no hint
        return "", ""
    if not isinstance(first, dict):
        return "", ""
    return clean_text(first.get("code", ""), 40), clean_text(first.get("message", ""), 200)
