"""Rebasing an image: its own layers moved from an old base onto a new one (pure, no I/O).

The app's layers and config are kept; what came from the base is replaced:
the bottom layers and their diff IDs, the base's history entries, and the
base's share of Env and Labels. An entry the app left as the old base had it
takes the new base's value; one the app added or changed stays the app's; a
list variable the app extended (PATH=<old>:/ko-app) is the new base's,
extended the same way.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import PykoError
from .image import Image


class RebaseError(PykoError):
    """The image is not built on the base it is said to be built on, or cannot be moved."""


def _env_map(env: Sequence[str]) -> Dict[str, str]:
    return dict(_env_item(item) for item in env or [])


def _env_item(item: str) -> Tuple[str, str]:
    name, _, value = item.partition("=")
    return name, value


def rebased_env(app: Sequence[str], old: Sequence[str], new: Sequence[str]) -> List[str]:
    """The app's Env moved from the `old` base's Env to the `new` one's, in the order a build on the
    new base writes it: the base's entries in the base's order, each the app set in its place, then
    the app's own that the base does not have, in the app's order, as app.py sets each variable.
    Rebasing onto the same base therefore changes nothing, not even the order."""
    old_map, new_map = _env_map(old), _env_map(new)
    own: Dict[str, str] = {}
    for key, value in _env_map(app).items():
        before = old_map.get(key)
        if before is not None and value == before:
            continue  # inherited from the old base: the new base decides
        if before and key in new_map and value.startswith(before + ":"):
            # Extended (PATH=<old>:/ko-app): extend the new base's the same way, once.
            have = new_map[key].split(":")
            added = [part for part in value[len(before) + 1:].split(":") if part not in have]
            own[key] = ":".join([new_map[key], *added]) if added else new_map[key]
        else:
            own[key] = value
    in_base = [(key, own.get(key, value)) for key, value in new_map.items()]
    apps_own = [(key, value) for key, value in own.items() if key not in new_map]
    return [f"{key}={value}" for key, value in [*in_base, *apps_own]]


def rebased_labels(app: Mapping[str, str], old: Mapping[str, str], new: Mapping[str, str]) -> Dict[str, str]:
    out = dict(new or {})
    for key, value in (app or {}).items():
        if (old or {}).get(key) != value:
            out[key] = value
    return dict(sorted(out.items()))


def rebase(app: Image, old_base: Image, new_base: Image, annotations: Optional[Mapping[str, str]],
           shown: str) -> Image:
    """`app` with `old_base`'s layers replaced by `new_base`'s. `shown` names the image in errors."""
    count = len(old_base.layers)
    ours = [layer.descriptor.digest for layer in app.layers[:count]]
    theirs = [layer.descriptor.digest for layer in old_base.layers]
    if ours != theirs:
        raise RebaseError(f"{shown}: its bottom layers are not the old base's ({count} layer(s)); "
                          "was it built on another base? give the right one with --old-base")
    config = copy.deepcopy(app.config_json())
    old_config, new_config = old_base.config_json(), new_base.config_json()
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if diff_ids[:count] != (old_config.get("rootfs") or {}).get("diff_ids", [])[:count]:
        raise RebaseError(f"{shown}: its config's diff IDs do not start with the old base's")
    config["rootfs"] = {"type": "layers",
                        "diff_ids": list(new_config["rootfs"]["diff_ids"]) + list(diff_ids[count:])}
    old_history = old_config.get("history") or []
    config["history"] = list(new_config.get("history") or []) + list((config.get("history") or [])[len(old_history):])
    run = config.setdefault("config", {})
    old_run, new_run = old_config.get("config") or {}, new_config.get("config") or {}
    run["Env"] = rebased_env(run.get("Env") or [], old_run.get("Env") or [], new_run.get("Env") or [])
    labels = rebased_labels(run.get("Labels") or {}, old_run.get("Labels") or {}, new_run.get("Labels") or {})
    if labels:
        run["Labels"] = labels
    else:
        run.pop("Labels", None)
    return Image.build(config, list(new_base.layers) + list(app.layers[count:]), annotations)
