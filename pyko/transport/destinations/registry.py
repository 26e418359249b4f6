"""A registry repository as a destination: the index pushed and tagged, attachments beside it."""
from __future__ import annotations

from typing import Iterable, Optional

from ...reference import Reference
from ..attachment_stores import AttachmentStore, RegistryAttachments
from ..registry.hosts import Registries
from ..registry.push import push_index
from . import Outgoing


class RegistryDestination:
    takes_sboms = True

    def __init__(self, registries: Registries, targets: Iterable[Reference], jobs: int):
        self.registries, self.jobs = registries, jobs
        self.hosts = sorted({target.registry for target in targets})

    def check(self) -> None:
        """Reach every target registry now: one that is down fails before anything compiles."""
        for host in self.hosts:
            self.registries(host).connect()

    def write(self, out: Outgoing) -> str:
        registry = self.registries(out.target.registry)
        stats = push_index(registry, out.target, out.index, out.tags, max(4, self.jobs))
        lines = [f"pushed {out.name}:{','.join(out.tags)} ({stats.summary()})"]
        while registry.warnings:  # each once, as the registry sent them
            lines.append(f"{out.target.registry} warns: {registry.warnings.pop(0)}")
        return "\n".join(lines)

    def attachments(self, out: Outgoing) -> Optional[AttachmentStore]:
        return RegistryAttachments(self.registries(out.target.registry), out.target.repository)
