"""What went into a binary: the packages a toolchain compiled into it (for its SBOM), and how the
toolchain made it (its Recipe, for its provenance).

The toolchains fill them in (Go from the binary's build info, Rust from the crate graph); the supply
chain writes them into SBOMs and SLSA provenance. They live below both, so neither imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Tuple


@dataclass(frozen=True)
class Package:
    name: str
    version: str = ""
    purl: str = ""
    sha256: str = ""          # hex
    comment: str = ""
    purpose: str = "LIBRARY"  # SPDX primaryPackagePurpose


@dataclass(frozen=True)
class Inventory:
    """What a toolchain says went into one binary: its packages, and whether that is all of them."""

    packages: Tuple[Package, ...] = ()
    complete: bool = True
    note: str = ""              # why it is incomplete
    source: str = ""            # where the package list came from (the binary's build info, cargo metadata, ...)


@dataclass(frozen=True)
class Lockfile:
    """A dependency lock file the build read (go.sum, Cargo.lock), by content."""

    name: str
    sha256: str                 # hex


@dataclass(frozen=True)
class Settings:
    """What of the build's environment reaches the compiler: values of build settings (GOFLAGS,
    RUSTFLAGS, …) and only the names of variables that may hold secrets (CARGO_*)."""

    values: Mapping[str, str] = field(default_factory=dict)
    names: Tuple[str, ...] = ()

    def to_json(self) -> Dict[str, Any]:
        return {"values": dict(self.values), "names": list(self.names)}


@dataclass(frozen=True)
class Recipe:
    """How a toolchain made a target's binaries, as its provenance records them: the toolchain, the
    lock files it read, and (details()) what each toolchain's own builds depend on."""

    toolchain: str = ""
    version: str = ""
    lockfiles: Tuple[Lockfile, ...] = ()

    def details(self) -> Dict[str, Any]:
        """The provenance's fields for one binary besides its name, toolchain and lock files."""
        return {}


@dataclass(frozen=True)
class GoRecipe(Recipe):
    flags: Tuple[str, ...] = ()
    ldflags: Tuple[str, ...] = ()
    env: Tuple[str, ...] = ()           # names only: values may be secrets
    added: Tuple[str, ...] = ()         # what pyko adds to every go build
    environment: Settings = field(default_factory=Settings)
    build_cache: Mapping[str, object] = field(default_factory=dict)   # --cache-from's reference, digest, signer

    def details(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"flags": list(self.flags), "ldflags": list(self.ldflags), "env": list(self.env),
                               "added": list(self.added), "environment": self.environment.to_json()}
        if self.build_cache:
            out["buildCache"] = dict(self.build_cache)
        return out


@dataclass(frozen=True)
class RustRecipe(Recipe):
    flags: Tuple[str, ...] = ()
    builder: str = ""                   # cargo, zigbuild or auditable
    libc: str = ""                      # musl or gnu
    env: Tuple[str, ...] = ()
    added: Tuple[str, ...] = ()
    standard_library: str = ""          # where std came from
    environment: Settings = field(default_factory=Settings)

    def details(self) -> Dict[str, Any]:
        return {"flags": list(self.flags), "builder": self.builder, "libc": self.libc, "env": list(self.env),
                "added": list(self.added), "standardLibrary": self.standard_library,
                "environment": self.environment.to_json()}

