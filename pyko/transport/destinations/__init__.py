"""Where built images go: one small interface, one implementation per output.

Implementations, one per file here: LayoutDestination (layout.py), TarballDestination
(tarball.py), RegistryDestination (registry.py), LocalDestination (local.py: Docker or
Podman). A new output is one new class plus one line where publish chooses destinations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Protocol, Tuple

from ...image import Index, Manifested
from ...reference import Reference
from ..attachment_stores import AttachmentStore


@dataclass(frozen=True)
class Outgoing:
    """A built image on its way out: its name, its index, its tags."""

    name: str                                # full name (repository-qualified when pushed)
    index: Index
    tags: Tuple[str, ...]
    target: Optional[Reference] = None       # the repository, when it is pushed
    alone: bool = False                      # one platform's image is written alone, no index (ko's way)

    @property
    def top(self) -> Manifested:
        """What the tags and the printed reference name: the index, or its one image alone."""
        return self.index.top(self.alone)

    @property
    def refs(self) -> List[str]:
        return [f"{self.name}:{tag}" for tag in self.tags]


class Destination(Protocol):
    #: What kind of output this is, for --json: "oci-layout", "tarball", "registry", "local".
    kind: str
    #: Whether SBOMs are attached beside the image here (registries; not layouts or tarballs).
    takes_sboms: bool

    def check(self) -> None:
        """Fail now, before anything compiles, if this destination cannot be written."""

    def write(self, out: Outgoing) -> str:
        """Write the image with its tags; returns a line for the user."""

    def location(self, out: Outgoing) -> str:
        """Where `out` went (a path, a repository, an engine's reference), for --json."""

    def attachments(self, out: Outgoing) -> Optional[AttachmentStore]:
        """Where signatures (and SBOMs, if taken) go beside the image, or None."""
