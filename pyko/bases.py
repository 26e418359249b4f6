"""Where base images come from: pyko's built-in base, or a registry.

Both kinds offer what the orchestrator needs: platforms(), image_for(platform),
and (for provenance) a name and the digest of each platform's base manifest.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from .errors import UsageError
from .image.static_base import REFERENCE as BUILTIN_BASE, static_base
from .platforms import Platform
from .reference import Reference
from .transport.registry.hosts import Registries
from .transport.registry.pull import RemoteBase, open_base

__all__ = ["Registries", "resolve_base", "base_annotations", "mount_sources", "base_identity"]


def resolve_base(ref: str, cache: str, registries: Registries):
    """The built-in base (an Index) or a RemoteBase: both offer platforms() and image_for()."""
    if ref == BUILTIN_BASE:
        return static_base(cache)
    if "://" in ref:
        raise UsageError(f"base image {ref!r}: the only pyko:// base is {BUILTIN_BASE}")
    return open_base(ref, registries, cache)


def base_annotations(base, platform: Optional[Platform] = None) -> Dict[str, str]:
    if not isinstance(base, RemoteBase):
        return {}
    digest = base.digest_for(platform) if platform is not None else base.digest
    return {"org.opencontainers.image.base.name": base.name, "org.opencontainers.image.base.digest": digest}


def mount_sources(base) -> Dict[str, Reference]:
    return base.layer_sources() if isinstance(base, RemoteBase) else {}


def base_identity(base, platform: Platform) -> Tuple[str, str]:
    """(name, manifest digest) of the base a platform image was built on."""
    if isinstance(base, RemoteBase):
        return base.name, base.digest_for(platform)
    return BUILTIN_BASE, base.image_for(platform).digest
