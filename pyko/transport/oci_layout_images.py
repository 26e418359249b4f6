"""Images read back from an OCI layout (for `pyko rebase --oci-layout`): the same
surface a registry image offers (platforms, image_for, its own annotations), every
manifest and config hashed before use, layers as the layout's own files."""
from __future__ import annotations

import os
import stat
from typing import Dict, List, Optional

from ..errors import MalformedInput, OutputError
from ..image import BytesBlob, Descriptor, FileBlob, Image, Layer, mediatypes
from ..image.documents import parse_config, parse_index, parse_manifest
from ..platforms import Platform
from . import oci_layout as layout


class LayoutImage:
    def __init__(self, path: str, ref_name: str):
        self.path, self.name = path, ref_name
        desc = layout.find(path, ref_name)
        if desc is None:
            raise OutputError(f"OCI layout {path} has no image named {ref_name}")
        self.digest = desc.digest
        raw = layout.read_blob(path, desc.digest, desc.size)
        self.media_type = desc.media_type
        self._index_annotations: Dict[str, str] = {}
        self._images: Dict[Platform, Image] = {}
        self._annotations: Dict[Platform, Dict[str, str]] = {}
        if desc.media_type in mediatypes.INDEX_TYPES:
            index = parse_index(raw, f"{path}: {ref_name}")
            self._index_annotations = dict(index.annotations)
            for child in index.manifests:
                self._load(child.digest, child.size, child.media_type)
        else:
            self._load(desc.digest, desc.size, desc.media_type)

    def _load(self, digest: str, size: int, media_type: str) -> None:
        raw = layout.read_blob(self.path, digest, size)
        manifest = parse_manifest(raw, f"{self.path}: manifest {digest[:19]}")
        config_bytes = layout.read_blob(self.path, manifest.config.digest, manifest.config.size)
        config = parse_config(config_bytes, f"{self.path}: config {manifest.config.digest[:19]}")
        layers = [Layer(FileBlob(desc, self._layer_file(desc)), diff_id)
                  for desc, diff_id in zip(manifest.layers, config.diff_ids)]
        image = Image(BytesBlob(media_type, raw), BytesBlob(mediatypes.OCI_CONFIG, config_bytes), tuple(layers))
        self._images[config.platform] = image
        self._annotations[config.platform] = dict(manifest.annotations)

    def _layer_file(self, desc: Descriptor) -> str:
        name = layout.blob_path(self.path, desc.digest)
        try:
            st = os.lstat(name)
        except OSError:
            raise OutputError(f"OCI layout {self.path} lacks blob {desc.digest}") from None
        if not stat.S_ISREG(st.st_mode) or st.st_size != desc.size:
            raise MalformedInput(f"OCI layout {self.path}: blob {desc.digest[:19]} is not a regular file "
                                 f"of {desc.size} bytes")
        return name

    def platforms(self) -> List[Platform]:
        return list(self._images)

    def image_for(self, platform: Platform) -> Image:
        return self._images[platform]

    def own_annotations(self, platform: Optional[Platform] = None) -> Dict[str, str]:
        return dict(self._index_annotations if platform is None else self._annotations[platform])
