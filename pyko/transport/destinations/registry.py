"""A registry repository as a destination: the index pushed and tagged, attachments beside it."""
from __future__ import annotations

from typing import Iterable, Optional

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
        registry = self.registries(out.target.registry)
        tags = out.tags if self.move_tags else ()
        stats = push_index(registry, out.target, out.index, tags, max(4, self.jobs))
        shown = f"{out.name}:{','.join(tags)}" if tags else f"{out.name}@{out.index.digest} (no tag moved)"
        lines = [f"pushed {shown} ({stats.summary()})"]
        while registry.warnings:  # each once, as the registry sent them
            lines.append(f"{out.target.registry} warns: {registry.warnings.pop(0)}")
        return "\n".join(lines)

    def location(self, out: Outgoing) -> str:
        return out.target.name

    def attachments(self, out: Outgoing) -> Optional[AttachmentStore]:
        return RegistryAttachments(self.registries(out.target.registry), out.target.repository)
