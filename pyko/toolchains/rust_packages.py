"""What went into a Rust binary, for its SBOM: the crates compiled for its target.

Two sources, best first:
1. the dependency list cargo-auditable embeds in the binary (its `.dep-v0`
   section, zlib-compressed JSON): exactly what was compiled in;
2. `cargo metadata --filter-platform <triple>` with the build's feature flags:
   the graph resolved for that target, walked from the crate over normal and
   build dependencies (not dev). Without --filter-platform cargo wants every
   optional and foreign-target crate of Cargo.lock, which a build that only
   downloaded what it compiles does not have (so it fails offline).
Each crate gets its `pkg:cargo/` purl and, for registry crates, Cargo.lock's
checksum (the SHA-256 of its .crate). When neither source can say, the
inventory is marked incomplete, never silently empty.
"""
from __future__ import annotations

import json
import os
import urllib.parse
import zlib
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..inventory import Inventory, Package
from ..util import children
from ..util.jsontypes import JsonObject
from .cargo_files import find_lock, read_toml
from .elf import read_section

AUDITABLE_SECTION = ".dep-v0"
MAX_AUDIT_JSON = 16 << 20
REGISTRY_SOURCES = ("registry+", "sparse+")
_FEATURE_FLAGS = ("--features", "-F")


def feature_flags(flags: Sequence[str]) -> List[str]:
    """The cargo flags that choose features (--features X, -F X, --all-features, ...), so the
    graph is resolved for the features the build enabled."""
    out, take_next = [], False
    for flag in flags:
        if take_next:
            out.append(flag)
            take_next = False
        elif flag in _FEATURE_FLAGS:
            out.append(flag)
            take_next = True
        elif flag.startswith("--features=") or flag in ("--all-features", "--no-default-features"):
            out.append(flag)
    return out


def crate_inventory(cargo: str, crate_dir: str, triple: str, flags: Sequence[str], env: Mapping[str, str],
                    binary: str) -> Inventory:
    checksums = _lock_checksums(crate_dir)
    embedded = auditable_inventory(binary, checksums)
    if embedded is not None:
        return embedded
    return metadata_inventory(cargo, crate_dir, triple, flags, env, checksums)


# --- cargo metadata --------------------------------------------------------------
def metadata_inventory(cargo: str, crate_dir: str, triple: str, flags: Sequence[str], env: Mapping[str, str],
                       checksums: Mapping[Tuple[str, str], str]) -> Inventory:
    # Not --offline: cargo metadata resolves the whole workspace, dev-dependencies included, and a
    # fresh runner that built the release binary never downloaded those; offline, the answer would
    # depend on the state of the cache. Online, cargo fetches what it needs (then Cargo.lock decides).
    command = [cargo, "metadata", "--format-version", "1", "--locked", "--filter-platform", triple,
               *feature_flags(flags)]
    proc = children.run(command, cwd=crate_dir, text=True, env=dict(env))
    if proc.returncode != 0:
        first = children.first_error_line(proc.stderr, f"exit {proc.returncode}")
        return Inventory((), False, f"`cargo metadata --filter-platform {triple}` failed: {first[:200]}")
    try:
        meta = json.loads(proc.stdout)
        return Inventory(tuple(_walk(meta, crate_dir, checksums)),
                         source=f"cargo metadata --filter-platform {triple} (normal and build dependencies)")
    except (ValueError, KeyError, TypeError) as err:
        return Inventory((), False, f"cargo metadata's answer could not be read ({type(err).__name__})")


def _walk(meta: JsonObject, crate_dir: str, checksums: Mapping[Tuple[str, str], str]) -> List[Package]:
    by_id = {p["id"]: p for p in meta["packages"]}
    manifest = os.path.realpath(os.path.join(crate_dir, "Cargo.toml"))
    root = next((p["id"] for p in meta["packages"] if os.path.realpath(p["manifest_path"]) == manifest), None)
    nodes = {n["id"]: n for n in (meta.get("resolve") or {}).get("nodes", [])}
    seen, todo = [], [root] if root else []
    while todo:
        current = todo.pop()
        if current in seen or current not in by_id:
            continue
        seen.append(current)
        for dep in nodes.get(current, {}).get("deps", []):
            if any(kind.get("kind") != "dev" for kind in dep.get("dep_kinds") or [{}]):
                todo.append(dep["pkg"])
    out = [_package(by_id[pid]["name"], by_id[pid]["version"], by_id[pid].get("source") or "", checksums,
                    pid == root) for pid in seen]
    return out[:1] + sorted(out[1:], key=lambda p: (p.name, p.version))


def _package(name: str, version: str, source: str, checksums: Mapping[Tuple[str, str], str], root: bool) -> Package:
    purl = f"pkg:cargo/{urllib.parse.quote(name)}@{urllib.parse.quote(version)}"
    comment = "" if not source or source.startswith(REGISTRY_SOURCES) else f"from {source.split('#', 1)[0]}"
    return Package(name, version, purl, checksums.get((name, version), ""), comment,
                   "APPLICATION" if root else "LIBRARY")


def _lock_checksums(crate_dir: str) -> Dict[Tuple[str, str], str]:
    """(name, version) -> the .crate's SHA-256, from the workspace's Cargo.lock."""
    lock = find_lock(crate_dir)
    data = read_toml(lock, 8 << 20) if lock else None
    if data is None:
        return {}
    out: Dict[Tuple[str, str], str] = {}
    for package in data.get("package") or []:
        if isinstance(package, dict) and isinstance(package.get("checksum"), str):
            out[(str(package.get("name")), str(package.get("version")))] = package["checksum"]
    return out


# --- cargo auditable -------------------------------------------------------------
def auditable_inventory(binary: str, checksums: Mapping[Tuple[str, str], str]) -> Optional[Inventory]:
    """The crates cargo-auditable recorded in the binary (runtime ones), or None without them."""
    raw = read_section(binary, AUDITABLE_SECTION)
    if not raw:
        return None
    try:
        inflater = zlib.decompressobj()
        data = json.loads(inflater.decompress(raw, MAX_AUDIT_JSON))
        packages = data["packages"]
        found = [(p["name"], p["version"], p.get("source", ""), bool(p.get("root")), p.get("kind", "runtime"))
                 for p in packages]
    except (zlib.error, ValueError, KeyError, TypeError):
        return None
    # Build-time crates (build scripts, proc macros) are listed too, as `cargo tree -e normal,build` does.
    out = [_package(name, version, "" if source in ("crates.io", "local") else str(source), checksums, root)
           for name, version, source, root, kind in found]
    out.sort(key=lambda p: (p.purpose != "APPLICATION", p.name, p.version))
    return Inventory(tuple(out), source="the cargo-auditable data in the binary (.dep-v0)")
