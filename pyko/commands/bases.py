"""Where base images come from: pyko's built-in base, or a registry.

A base is anything that offers the Base protocol; the orchestrator never asks
which kind it has. A new kind of base is one class here (or in transport/)
plus one line in open_base.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Protocol, Tuple, Type

from ..errors import UsageError
from ..image import Image, Index
from ..image.pgzip import Deflater
from ..image.static_base import REFERENCE as BUILTIN_BASE
from ..image.static_base import contents as static_base_contents
from ..image.static_base import static_base
from ..inventory import Package
from ..platforms import Platform
from ..supplychain.policy import BasePolicy
from ..transport.registry.hosts import Registries
from ..transport.registry.pull import RemoteBase, open_remote_base


class Base(Protocol):
    name: str
    digest: str                         # the base's own manifest (or index) digest

    def platforms(self) -> List[Platform]: ...

    def image_for(self, platform: Platform) -> Image: ...

    def annotations(self, platform: Optional[Platform] = None) -> Dict[str, str]:
        """What the index (no platform) or one image records about its base."""

    def identity(self, platform: Platform) -> Tuple[str, str]:
        """(name, manifest digest) of the base one platform image is built on, for its SBOM."""

    def contents(self) -> Tuple[Package, ...]:
        """What the base holds, for the image's SBOM: known for the built-in base; () for a pulled
        one, whose own SBOM describes it."""


class BuiltinBase:
    """pyko://static: made here, offline, so it is not pullable and gets no base annotations."""

    name = BUILTIN_BASE

    def __init__(self, cache_dir: str, deflater: Optional[Deflater] = None):
        self.index: Index = static_base(cache_dir, deflater=deflater)
        self.digest = self.index.digest

    def platforms(self) -> List[Platform]:
        return self.index.platforms()

    def image_for(self, platform: Platform) -> Image:
        return self.index.image_for(platform)

    def annotations(self, platform: Optional[Platform] = None) -> Dict[str, str]:
        return {}

    def identity(self, platform: Platform) -> Tuple[str, str]:
        return BUILTIN_BASE, self.image_for(platform).digest

    def contents(self) -> Tuple[Package, ...]:
        return tuple(Package(what, version, purl, comment="in pyko's built-in static base")
                     for what, version, purl in static_base_contents())


def open_base(ref: str, cache_dir: str, registries: Registries, deflater: Optional[Deflater] = None) -> Base:
    """The built-in base (its layer compressed by `deflater`, by default the pinned one) or a registry's."""
    if ref == BUILTIN_BASE:
        return BuiltinBase(cache_dir, deflater)
    if "://" in ref:
        raise UsageError(f"base image {ref!r}: the only pyko:// base is {BUILTIN_BASE}")
    return open_remote_base(ref, registries, cache_dir)


def verify_base(base: Base, policy: BasePolicy, registries: Registries, sigstore_offline: bool = False,
                cache_dir: str = "") -> List[str]:
    """Check the base's signature against `policy` (a BasePolicy) before anything is built on it;
    returns lines for the user. The built-in base is made here and has nothing to check."""
    from ..errors import VerificationError
    from ..supplychain.verify import verifier_for, verify_signatures
    from ..transport.attachment_stores import RegistryAttachments

    if not isinstance(base, RemoteBase):   # the built-in base, the only other kind
        return [f"{BUILTIN_BASE} is built here: no signature to check"]
    verifier = verifier_for(policy, sigstore_offline, cache_dir)
    store = RegistryAttachments(registries(base.ref.registry), base.ref.repository)
    try:
        verified = verify_signatures(store, base.digest, verifier, {}, base.name)
    except VerificationError as err:
        raise VerificationError(f"the base image {base.name} ({base.digest}) is not {policy.describe()}: "
                                f"{err}") from None
    first = verified[0]
    lines = [f"warning: {verifier.note}"] if verifier.note else []
    verified_line = (f"base {base.name}@{base.digest[:19]}… verified: {policy.describe()} "
                     f"({first.where}: {first.checks})")
    return lines + [verified_line]


if TYPE_CHECKING:   # each implementation checked against the protocol, as ggcr's `var _ partial.X = (*y)(nil)`
    _builtin: Type[Base] = BuiltinBase
    _remote: Type[Base] = RemoteBase
