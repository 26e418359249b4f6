"""A registry repository as a destination: the index pushed and tagged, attachments beside it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional, Type

from ...reference import Reference
from ..attachment_stores import AttachmentStore, RegistryAttachments
from ..registry.hosts import Registries
from ..registry.push import push_index
from . import Outgoing


class RegistryDestination:
    kind = "registry"
    takes_sboms = True

    def __init__(self, registries: Registries, hosts: Iterable[str], jobs: int, move_tags: bool = True):
        self.registries, self.jobs, self.move_tags = registries, jobs, move_tags
        self.hosts = sorted(set(hosts))

    def check(self) -> None:
        """Reach every target registry now: one that is down fails before anything compiles."""
        for host in self.hosts:
            self.registries(host).connect()

    def write(self, out: Outgoing) -> str:
        target = _target(out)
        registry = self.registries(target.registry)
        tags = out.tags if self.move_tags else ()
        stats = push_index(registry, target, out.index, tags, max(4, self.jobs), alone=out.alone)
        shown = f"{out.name}:{','.join(tags)}" if tags else f"{out.name}@{out.top.digest} (no tag moved)"
        lines = [f"pushed {shown} ({stats.summary()})"]
        while registry.warnings:  # each once, as the registry sent them
            lines.append(f"{target.registry} warns: {registry.warnings.pop(0)}")
        return "\n".join(lines)

    def location(self, out: Outgoing) -> str:
        return _target(out).name

    def attachments(self, out: Outgoing) -> Optional[AttachmentStore]:
        target = _target(out)
        return RegistryAttachments(self.registries(target.registry), target.repository)


def _target(out: Outgoing) -> Reference:
    """The repository an image pushed here goes to: the plan sets one for every image a registry gets."""
    if out.target is None:
        raise ValueError(f"{out.name}: no repository to push to")
    return out.target

if TYPE_CHECKING:   # checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    from . import Destination

    _checked: Type[Destination] = RegistryDestination

