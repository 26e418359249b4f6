"""Registry auth as a flow object: challenges in, Authorization headers out.

The flow (distribution's token spec): ping /v2/; a 401 names the scheme.
Basic sends the credentials to the registry itself. Bearer exchanges them at
the realm for a token per scope set: GET with Basic credentials (or none, for
anonymous pulls), or the OAuth2 refresh-token POST for identity tokens (with
a GET fallback on 404). Tokens are cached per (realm, service, scopes) until
they expire; a 401 asking for more scope widens the set and tries once more.

`RegistryAuth.flow(scopes)` is a generator in the manner of httpx's
`Auth.auth_flow`: it yields the Authorization header to send, receives the
response, and yields once more if that response was a 401 it can answer. The
client feeds it only responses from the registry's own origin, so a host the
client was redirected to can never teach it a challenge (and so a realm).
"""
from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Generator, Iterable, List, Mapping, Optional, Tuple

import requests

from ...errors import RegistryError, clean_text
from ...reference import is_loopback
from .credentials import Credentials
from .http import HttpSession, describe, origin_of, read_bounded, transient_for
from .retry import RetryPolicy

MAX_TOKEN_RESPONSE = 1 << 20


@dataclass(frozen=True)
class Challenge:
    scheme: str                     # "basic" or "bearer" (lowercase)
    params: Mapping[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> List[Challenge]:
    """Parse a WWW-Authenticate value (RFC 7235): several challenges, each a
    scheme then `key=value` params, values quoted (with escapes, commas inside)
    or bare. A token followed by anything but `=` starts the next challenge."""
    found: List[Tuple[str, Dict[str, str]]] = []
    i, n = 0, len(header)
    while i < n:
        while i < n and header[i] in " ,\t":
            i += 1
        start = i
        while i < n and header[i] not in " ,=\t":
            i += 1
        token = header[start:i]
        if not token:
            break
        j = i
        while j < n and header[j] in " \t":
            j += 1
        if j < n and header[j] == "=" and found:
            i = j + 1
            while i < n and header[i] in " \t":
                i += 1
            if i < n and header[i] == '"':
                i += 1
                value = []
                while i < n and header[i] != '"':
                    if header[i] == "\\" and i + 1 < n:
                        i += 1
                    value.append(header[i])
                    i += 1
                i += 1  # the closing quote
                found[-1][1][token.lower()] = "".join(value)
            else:
                start = i
                while i < n and header[i] not in " ,\t":
                    i += 1
                found[-1][1][token.lower()] = header[start:i]
        else:
            found.append((token.lower(), {}))
    return [Challenge(scheme, params) for scheme, params in found]


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class RegistryAuth:
    """Auth state for one registry: its challenge, the credentials, cached tokens."""

    def __init__(self, registry: str, credentials: Credentials, http: HttpSession, policy: RetryPolicy):
        self.registry = registry
        self.credentials = credentials
        self.http, self.policy = http, policy
        self.challenge: Optional[Challenge] = None
        self._tokens: Dict[Tuple[str, str, FrozenSet[str]], Tuple[str, float]] = {}
        self._lock = threading.Lock()

    def learn(self, www_authenticate: str) -> Challenge:
        """Record what the registry asked for; prefer Bearer when it offers both."""
        challenges = parse_challenges(www_authenticate)
        chosen = next((c for c in challenges if c.scheme == "bearer"), None) or \
            next((c for c in challenges if c.scheme == "basic"), None)
        if chosen is None:
            raise RegistryError(f"{self.registry} asks for an authentication scheme pyko does not speak: "
                                f"{clean_text(www_authenticate.split(' ', 1)[0], 40)!r}")
        self.challenge = chosen
        return chosen

    def flow(self, scopes: Iterable[str]) -> Generator[Optional[str], requests.Response, None]:
        """Yield the Authorization header; on a 401 with a challenge, learn it,
        widen the scopes and yield once more. Fed only the registry's own responses."""
        wanted = set(scopes)
        response = yield self.header(wanted)
        challenge = response.headers.get("WWW-Authenticate", "") if response.status_code == 401 else ""
        if not challenge:
            return
        self.learn(challenge)
        wanted |= set(self.scopes_from(challenge))
        yield self.header(wanted)

    def header(self, scopes: Iterable[str]) -> Optional[str]:
        """The Authorization header for a request needing `scopes`, or None."""
        if self.challenge is None:
            return None
        if self.challenge.scheme == "basic":
            if self.credentials.anonymous:
                return None
            return basic_header(self.credentials.username, self.credentials.password)
        if self.credentials.registry_token:
            return f"Bearer {self.credentials.registry_token}"
        return f"Bearer {self._token(self.challenge, frozenset(scopes))}"

    def _token(self, challenge: Challenge, scopes: FrozenSet[str]) -> str:
        key = (challenge.params.get("realm", ""), challenge.params.get("service", ""), scopes)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        token, expires_in = self._fetch_token(challenge, sorted(scopes))
        # Refresh a little early so a token never expires mid-request.
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + max(60, expires_in) - 10)
        return token

    @staticmethod
    def scopes_from(www_authenticate: str) -> List[str]:
        """Scopes a 401 says it wanted (for widening), e.g. with insufficient_scope."""
        out = []
        for challenge in parse_challenges(www_authenticate):
            out.extend(challenge.params.get("scope", "").split())
        return out

    # --- the token exchange -------------------------------------------------
    def _realm(self, challenge: Challenge) -> str:
        realm = challenge.params.get("realm", "")
        parsed = urllib.parse.urlsplit(realm)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise RegistryError(f"{self.registry} sent a token realm that is not a URL: {clean_text(realm, 80)!r}")
        if parsed.scheme == "http" and not (self.http.plain_http_allowed or is_loopback(parsed.netloc)):
            raise RegistryError(f"{self.registry} wants credentials sent to {describe(realm)} over plain HTTP; "
                                "refusing (use --insecure-registry if you trust this network)")
        return realm

    def _fetch_token(self, challenge: Challenge, scopes: List[str]) -> Tuple[str, int]:
        realm = self._realm(challenge)
        realm_origin = origin_of(realm)
        creds = self.credentials
        service = challenge.params.get("service", "")
        form = {"service": service, "scope": " ".join(scopes), "client_id": "pyko"}

        def ask(method: str, send: Callable[[], requests.Response]) -> Tuple[int, bytes]:
            resp = send()
            transient = transient_for(resp)
            if transient:
                resp.close()
                raise transient
            return resp.status_code, read_bounded(resp, MAX_TOKEN_RESPONSE, f"the token service of {self.registry}")

        status = 0
        if creds.identity_token:
            body = urllib.parse.urlencode({**form, "grant_type": "refresh_token",
                                           "refresh_token": creds.identity_token}).encode()
            status, data = self.policy.run(f"getting a token from {describe(realm)}", lambda: ask("POST", lambda: (
                self.http.send("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"},
                               lambda: body, realm_origin))))
        if status in (0, 404):  # no identity token, or an endpoint without the OAuth2 POST: use GET
            headers = {}
            if creds.username or creds.password:
                headers["Authorization"] = basic_header(creds.username, creds.password)
            params = [("service", service)] + [("scope", s) for s in scopes]
            status, data = self.policy.run(f"getting a token from {describe(realm)}", lambda: ask("GET", lambda: (
                self.http.send("GET", realm, headers, None, realm_origin, params=params))))
        return self._token_from(status, data)

    def _token_from(self, status: int, data: bytes) -> Tuple[str, int]:
        if status in (401, 403):
            who = "anonymous access" if self.credentials.anonymous else "the credentials"
            raise RegistryError(f"authentication to {self.registry} failed: {who} were refused by its token "
                                f"service; check them with `pyko login {self.registry}`", status)
        if status != 200:
            raise RegistryError(f"the token service of {self.registry} answered {status}", status)
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):
            raise RegistryError(f"the token service of {self.registry} did not answer JSON") from None
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not token.isprintable():
            raise RegistryError(f"the token service of {self.registry} gave no usable token")
        expires_in = body.get("expires_in")
        return token, expires_in if isinstance(expires_in, int) and 0 < expires_in < 10 ** 7 else 60
