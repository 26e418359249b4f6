"""Manifests, indexes and configs read from outside pyko, parsed and checked.

Everything a registry or a layout hands pyko passes through here before it is
used: the JSON must parse (not too deep, valid UTF-8), have the right shape and
types, and every digest, size and platform in it must be valid. A failure is a
MalformedInput naming where the document came from, never a KeyError,
TypeError or RecursionError deep inside pyko.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Tuple

from ..errors import MalformedInput
from ..platforms import Platform
from ..util.jsontypes import JsonObject
from .blob import Descriptor, string_map
from .digest import check_digest

#: More layers than any real image has; a signature manifest is capped lower by its reader.
MAX_LAYERS = 1024
MAX_INDEX_ENTRIES = 4096


def load_json(data: bytes, where: str) -> JsonObject:
    """A JSON object from `data`, or MalformedInput (bad UTF-8, bad JSON, too deep, not an object)."""
    try:
        doc = json.loads(data)
    except RecursionError:
        raise MalformedInput(f"{where} is nested too deeply to be a manifest or config") from None
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedInput(f"{where} is not valid JSON ({str(err)[:80]})") from None
    if not isinstance(doc, dict):
        raise MalformedInput(f"{where} must be a JSON object, not {type(doc).__name__}")
    return doc


def _list(doc: Mapping[str, Any], key: str, where: str, limit: int) -> List[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedInput(f"{where}: {key} must be a list")
    if len(value) > limit:
        raise MalformedInput(f"{where}: {key} lists {len(value)} entries; more than the {limit} pyko accepts")
    return value


def _media_type(doc: Mapping[str, Any], where: str) -> str:
    value = doc.get("mediaType", "")
    if not isinstance(value, str):
        raise MalformedInput(f"{where}: mediaType must be a string")
    return value


@dataclass(frozen=True)
class ManifestDoc:
    media_type: str
    config: Descriptor
    layers: Tuple[Descriptor, ...]
    annotations: Mapping[str, str]
    subject: Optional[Descriptor] = None


@dataclass(frozen=True)
class IndexDoc:
    media_type: str
    manifests: Tuple[Descriptor, ...]
    annotations: Mapping[str, str]


def parse_manifest(data: bytes, where: str, max_layers: int = MAX_LAYERS) -> ManifestDoc:
    doc = load_json(data, where)
    if "config" not in doc:
        raise MalformedInput(f"{where} is not an image manifest (it has no config)")
    layers = _list(doc, "layers", where, max_layers)
    subject = doc.get("subject")
    return ManifestDoc(
        media_type=_media_type(doc, where),
        config=Descriptor.from_json(doc["config"], f"{where}: config"),
        layers=tuple(Descriptor.from_json(layer, f"{where}: layer {n}") for n, layer in enumerate(layers, 1)),
        annotations=string_map(doc.get("annotations"), f"{where}: annotations"),
        subject=Descriptor.from_json(subject, f"{where}: subject") if subject is not None else None,
    )


def parse_index(data: bytes, where: str) -> IndexDoc:
    doc = load_json(data, where)
    entries = _list(doc, "manifests", where, MAX_INDEX_ENTRIES)
    return IndexDoc(
        media_type=_media_type(doc, where),
        manifests=tuple(Descriptor.from_json(e, f"{where}: entry {n}") for n, e in enumerate(entries, 1)),
        annotations=string_map(doc.get("annotations"), f"{where}: annotations"),
    )


def media_type_of(data: bytes, where: str) -> str:
    return _media_type(load_json(data, where), where)


@dataclass(frozen=True)
class ConfigDoc:
    platform: Platform
    diff_ids: Tuple[str, ...]
    raw: JsonObject


def parse_config(data: bytes, where: str) -> ConfigDoc:
    """An image config: its platform and diff IDs checked, the rest kept as is."""
    doc = load_json(data, where)
    rootfs = doc.get("rootfs") or {}
    if not isinstance(rootfs, dict):
        raise MalformedInput(f"{where}: rootfs must be an object")
    diff_ids = _list(rootfs, "diff_ids", f"{where}: rootfs", MAX_LAYERS)
    for key in ("config", "history"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], (dict if key == "config" else list)):
            raise MalformedInput(f"{where}: {key} has the wrong type")
    return ConfigDoc(Platform.from_oci(doc, where), tuple(check_digest(d, f"{where}: diff ID") for d in diff_ids),
                     doc)
