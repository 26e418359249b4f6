"""A local engine (Docker or Podman) as a destination: `--local`, ko's `-L`.

The image is named `pyko.local/<name>` (or under the pyko.local/... or ko.local/...
repository you set), tagged with each tag and, as ko does, with the index
digest's hex, which is the reference printed: it names exactly this build.
Every platform is loaded where the engine's store can hold an index (Docker's
containerd image store); elsewhere the preferred platform (this machine's, or ko's
$GOOS/$GOARCH-else-linux/amd64 for a ko user) or the first one built, with a note saying so.
"""
from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Mapping, Optional, Type

from ...platforms import Platform
from .. import tarball
from ..attachment_stores import AttachmentStore
from ..engines import Engine, find_engine
from . import Outgoing


def local_tag(out: Outgoing) -> str:
    """The tag that names exactly this build: the index digest's hex (the image's, written alone)."""
    return out.top.digest.split(":", 1)[1]


class LocalDestination:
    kind = "local"
    takes_sboms = False

    def __init__(self, choice: str, environ: Mapping[str, str], platform: Optional[Platform] = None):
        self.choice = choice
        self.environ = dict(environ)
        self.platform = platform or Platform.host()
        self._engine: Optional[Engine] = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = find_engine(self.choice, self.environ)
        return self._engine

    def check(self) -> None:
        self.engine.check()

    def write(self, out: Outgoing) -> str:
        refs = [f"{out.name}:{tag}" for tag in (*out.tags, local_tag(out))]
        all_platforms = len(out.index.images) == 1 or self.engine.holds_indexes()
        with tempfile.TemporaryDirectory(prefix="pyko-local-") as work:
            archive = os.path.join(work, "image.tar")
            image = tarball.write_tarball(archive, out.index, refs, refs, self.platform, alone=out.alone)
            self.engine.load(archive)
        line = f"loaded {self.location(out)} into {self.engine.name}"
        if all_platforms:
            return line + f" ({len(out.index.images)} platform(s))"
        return (line + f" ({image.platform} only: {self.engine.name}'s image store keeps one platform per name; "
                f"--oci-layout or --tarball keep all {len(out.index.images)})")

    def location(self, out: Outgoing) -> str:
        return f"{out.name}:{local_tag(out)}"

    def attachments(self, out: Outgoing) -> Optional[AttachmentStore]:
        return None

if TYPE_CHECKING:   # checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    from . import Destination

    _checked: Type[Destination] = LocalDestination

