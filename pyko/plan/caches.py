"""Where Go's build cache is read from and saved to (--cache-from / --cache-to, or the config's
cacheFrom / cacheTo): registry references, checked before anything is built."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from ..errors import UsageError
from ..reference import Reference


@dataclass(frozen=True)
class GoCacheSettings:
    cache_from: Optional[Reference] = None
    cache_to: Optional[Reference] = None

    @property
    def registry_hosts(self) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(r.registry for r in (self.cache_from, self.cache_to) if r is not None))


def go_cache_settings(flag_from: str, flag_to: str, config_from: str, config_to: str) -> GoCacheSettings:
    """The flags, else the config; each a repository[:tag] (default tag: go-build-cache)."""
    return GoCacheSettings(_reference(flag_from or config_from, "--cache-from"),
                           _reference(flag_to or config_to, "--cache-to"))


def _reference(text: str, what: str) -> Optional[Reference]:
    if not text:
        return None
    ref = Reference.parse(text)
    if ref.digest:
        raise UsageError(f"{what} {text}: name a tag, not a digest (the cache moves with each save)")
    return ref if ref.tag else ref.with_tag("go-build-cache")
