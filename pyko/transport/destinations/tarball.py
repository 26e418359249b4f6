"""A `docker load` tarball as a destination (one image; no attachments)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Type

from ...platforms import Platform
from ...reference import normalized
from .. import tarball
from ..attachment_stores import AttachmentStore
from . import Outgoing


class TarballDestination:
    kind = "tarball"
    takes_sboms = False

    def __init__(self, path: str):
        self.path = path

    def check(self) -> None:
        tarball.check_writable(self.path)

    def write(self, out: Outgoing) -> str:
        image = tarball.write_tarball(self.path, out.index, out.refs, [normalized(r) for r in out.refs],
                                      Platform.host(), alone=out.alone)
        return (f"wrote {self.path} (docker load gives {image.platform}; "
                f"all {len(out.index.images)} platform(s) are in its OCI index)")

    def location(self, out: Outgoing) -> str:
        return self.path

    def attachments(self, out: Outgoing) -> Optional[AttachmentStore]:
        return None

if TYPE_CHECKING:   # checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    from . import Destination

    _checked: Type[Destination] = TarballDestination

