"""Pure transformations of images: each returns a new Image, the input is untouched."""
from __future__ import annotations

import copy
from typing import Callable, Mapping, Optional, Sequence

from ..util.jsontypes import JsonObject
from .blob import Layer
from .image import Image


def append_layers(image: Image, layers: Sequence[Layer],
                  annotations: Optional[Mapping[str, str]] = None) -> Image:
    """`image` with `layers` on top; their diff IDs and history go into the config."""
    config = copy.deepcopy(image.config_json())
    rootfs = config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    rootfs.setdefault("diff_ids", []).extend(layer.diff_id for layer in layers)
    history = config.setdefault("history", [])
    history.extend(dict(layer.history) for layer in layers)
    return Image.build(config, list(image.layers) + list(layers), annotations)


def edit_config(image: Image, edit: Callable[[JsonObject], None],
                annotations: Optional[Mapping[str, str]] = None) -> Image:
    """`image` with its config changed in place by `edit` (on a copy)."""
    config = copy.deepcopy(image.config_json())
    edit(config)
    return Image.build(config, image.layers, annotations)
