"""Registry auth as an object attached to a client: challenges in, headers out.

The flow (distribution's token spec): ping /v2/; a 401 names the scheme.
Basic sends the credentials to the registry itself. Bearer exchanges them at
the realm for a token per scope set: GET with Basic credentials (or none, for
anonymous pulls), or the OAuth2 refresh-token POST for identity tokens (with
a GET fallback on 404). Tokens are cached per (realm, service, scopes) until
they expire; a 401 asking for more scope widens the set and tries again.
"""
from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

from ...errors import PykoError
from .credentials import Credentials



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

    def __init__(self, registry: str, credentials: Credentials, fetch_token):
        self.registry = registry
        self.credentials = credentials
        self._fetch_token = fetch_token   # (challenge, scopes, credentials) -> (token, expires_in)
        self.challenge: Optional[Challenge] = None
        self._tokens: Dict[Tuple[str, str, FrozenSet[str]], Tuple[str, float]] = {}
        self._lock = threading.Lock()

    def learn(self, www_authenticate: str) -> Optional[Challenge]:
        """Record what the registry asked for; prefer Bearer when it offers both."""
        challenges = parse_challenges(www_authenticate)
        chosen = next((c for c in challenges if c.scheme == "bearer"), None) or \
            next((c for c in challenges if c.scheme == "basic"), None)
        if chosen is None:
            raise PykoError(f"{self.registry} asks for an authentication scheme pyko does not speak: "
                            f"{www_authenticate.split(' ', 1)[0]}")
        self.challenge = chosen
        return chosen

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
        return f"Bearer {self._token(frozenset(scopes))}"

    def _token(self, scopes: FrozenSet[str]) -> str:
        challenge = self.challenge
        key = (challenge.params.get("realm", ""), challenge.params.get("service", ""), scopes)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        token, expires_in = self._fetch_token(challenge, sorted(scopes), self.credentials)
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
