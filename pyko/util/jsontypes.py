"""Names for documents as parsed, before a reader has checked their shape.

A manifest, config or bundle from a registry, a layout, a TOML or YAML file is a mapping whose values
are whatever the bytes said: readers (image/documents.py, plan/config.py, …) check each value as they
take it, so until then its values are honestly `Any`. Naming it says which dicts those are.
"""
from __future__ import annotations

from typing import Any, Dict

#: A parsed JSON object (manifest, config, index, bundle, predicate); values unchecked until read.
JsonObject = Dict[str, Any]

#: A parsed TOML or YAML table (.pyko.toml, .ko.yaml); values unchecked until the config reader takes them.
Table = Dict[str, Any]
