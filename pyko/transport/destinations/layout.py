"""An OCI image layout as a destination: entries named <name>:<tag>, signatures beside them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Type

from ...reference import normalized
from .. import oci_layout as layout
from ..attachment_stores import AttachmentStore, LayoutAttachments
from . import Outgoing


class LayoutDestination:
    # No SBOMs in layouts: no standard tool reads them there, and they would crowd
    # index.json; --sbom-dir writes them as files instead.
    kind = "oci-layout"
    takes_sboms = False

    def __init__(self, path: str):
        self.path = path

    def check(self) -> None:
        layout.check_writable(self.path)

    def write(self, out: Outgoing) -> str:
        layout.add_manifest(self.path, out.top.descriptor, out.index.blobs_under(out.top),
                            [(ref, normalized(ref)) for ref in out.refs])
        return f"wrote {', '.join(out.refs)} to OCI layout {self.path}"

    def location(self, out: Outgoing) -> str:
        return self.path

    def attachments(self, out: Outgoing) -> Optional[AttachmentStore]:
        return LayoutAttachments(self.path, out.name)

if TYPE_CHECKING:   # checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    from . import Destination

    _checked: Type[Destination] = LayoutDestination

