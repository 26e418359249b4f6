"""What went into a binary: the packages a toolchain compiled into it.

The toolchains fill it in (Go from the binary's build info, Rust from the crate
graph); the supply chain writes it into SBOMs. It lives below both, so neither
imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple


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
