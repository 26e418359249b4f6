"""Where Go's build cache is read from and saved to (--cache-from / --cache-to, or the config's
cacheFrom / cacheTo): registry references, checked before anything is built; and who may have
written a cache that is read (--cache-key, --cache-certificate-…, or cachePolicy), or the explicit
opt-out (--cache-trust=none, cacheTrust = "none")."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from ..errors import UsageError
from ..reference import Reference
from ..supplychain.policy import BasePolicy

NO_POLICY = ("--cache-from reads a cache that decides what is compiled: say who may have written it "
             "(--cache-key cosign.pub, or --cache-certificate-identity … with --cache-certificate-oidc-issuer …, "
             "or cachePolicy in the config), or accept a cache nobody verified with --cache-trust=none")


@dataclass(frozen=True)
class GoCacheSettings:
    cache_from: Optional[Reference] = None
    cache_to: Optional[Reference] = None
    policy: Optional[BasePolicy] = None         # who must have signed a cache that is read; None: unverified

    @property
    def registry_hosts(self) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(r.registry for r in (self.cache_from, self.cache_to) if r is not None))


def go_cache_settings(flag_from: str, flag_to: str, config_from: str, config_to: str,
                      policy: Optional[BasePolicy] = None, trust: str = "") -> GoCacheSettings:
    """The flags, else the config; each a repository[:tag] (default tag: go-build-cache). A cache
    that is read needs a policy, or `trust` "none" said explicitly; never both."""
    cache_from = _reference(flag_from or config_from, "--cache-from")
    if policy is not None and trust == "none":
        raise UsageError("--cache-trust=none reads a cache unverified, and a cache policy verifies it: choose one")
    if cache_from is not None and policy is None and trust != "none":
        raise UsageError(NO_POLICY)
    return GoCacheSettings(cache_from, _reference(flag_to or config_to, "--cache-to"), policy)


def _reference(text: str, what: str) -> Optional[Reference]:
    if not text:
        return None
    ref = Reference.parse(text)
    if ref.digest:
        raise UsageError(f"{what} {text}: name a tag, not a digest (the cache moves with each save)")
    return ref if ref.tag else ref.with_tag("go-build-cache")
