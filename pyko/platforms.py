"""Platforms (os/arch/variant) and how toolchains name them.

A Platform is a plain value; the image model uses it for index entries and
config fields, and each toolchain driver asks it for its own spelling (GOARCH
and GOARM for Go, a target triple for Rust).
"""
from __future__ import annotations

import platform as _host
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from .errors import MalformedInput, UsageError

#: The eight linux platforms pyko's built-in base offers, in index order.
ALL_LINUX = (
    "linux/386",
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v6",
    "linux/arm/v7",
    "linux/ppc64le",
    "linux/riscv64",
    "linux/s390x",
)

# What an os, architecture or variant may look like (the values GOOS/GOARCH and
# the OCI spec use): never a path, never empty space.
_PLATFORM_WORD = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")

# Architecture names as they appear in `uname -m`, mapped to OCI/GOARCH names.
_MACHINE_TO_ARCH = {
    "x86_64": "amd64", "amd64": "amd64", "i386": "386", "i686": "386",
    "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "armv6l": "arm",
    "ppc64le": "ppc64le", "riscv64": "riscv64", "s390x": "s390x",
}


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> "Platform":
        """Parse `os/arch[/variant]`, normalising the spellings users type.

        `linux/arm` means arm/v7 (as in docker), `arm64/v8` is plain arm64
        (as in Chainguard's images), `x86_64`/`aarch64` are accepted aliases.
        """
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(
                f"invalid platform {text!r}: expected os/arch[/variant], e.g. linux/arm64 or linux/arm/v7"
            )
        os_, arch = parts[0].lower(), _MACHINE_TO_ARCH.get(parts[1].lower(), parts[1].lower())
        variant = parts[2].lower() if len(parts) == 3 else ""
        if arch == "arm" and not variant:
            variant = "v7"
        return cls(os_, arch, variant).normalized()

    @classmethod
    def host(cls) -> "Platform":
        arch = _MACHINE_TO_ARCH.get(_host.machine().lower(), _host.machine().lower())
        return cls.parse(f"linux/{arch}")

    @classmethod
    def from_oci(cls, obj: Mapping[str, Any], where: str = "platform") -> "Platform":
        """From an OCI platform object or image config, each field checked: these
        strings come from outside (a base, a layout) and end up in names."""
        fields = [obj.get("os", ""), obj.get("architecture", ""), obj.get("variant", "") or ""]
        for value in fields:
            if not isinstance(value, str) or (value and not _PLATFORM_WORD.fullmatch(value)):
                raise MalformedInput(f"{where}: {str(value)[:40]!r} is not a valid os, architecture or variant")
        return cls(*fields)

    def normalized(self) -> "Platform":
        """arm64/v8 is plain arm64 (Chainguard's images say v8; Go and docker do not)."""
        if self.architecture == "arm64" and self.variant == "v8":
            return Platform(self.os, self.architecture)
        return self

    def to_oci(self) -> Dict[str, str]:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @property
    def slug(self) -> str:
        """A filename-safe spelling, e.g. `linux-arm-v7`."""
        return str(self).replace("/", "-")

    # --- Go ---------------------------------------------------------------
    def go_env(self) -> Dict[str, str]:
        """GOOS/GOARCH (and GOARM for 32-bit arm) for `go build`."""
        env = {"GOOS": self.os, "GOARCH": self.architecture}
        if self.architecture == "arm":
            env["GOARM"] = {"v5": "5", "v6": "6", "v7": "7"}.get(self.variant, "7")
        return env


# Rust target triples: (musl, glibc) per platform. Only linux.
_RUST_TRIPLES = {
    ("386", ""): ("i686-unknown-linux-musl", "i686-unknown-linux-gnu"),
    ("amd64", ""): ("x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu"),
    ("arm64", ""): ("aarch64-unknown-linux-musl", "aarch64-unknown-linux-gnu"),
    ("arm", "v6"): ("arm-unknown-linux-musleabihf", "arm-unknown-linux-gnueabihf"),
    ("arm", "v7"): ("armv7-unknown-linux-musleabihf", "armv7-unknown-linux-gnueabihf"),
    ("ppc64le", ""): ("powerpc64le-unknown-linux-musl", "powerpc64le-unknown-linux-gnu"),
    ("riscv64", ""): ("riscv64gc-unknown-linux-musl", "riscv64gc-unknown-linux-gnu"),
    ("s390x", ""): ("s390x-unknown-linux-musl", "s390x-unknown-linux-gnu"),
}
RUST_LIBCS = ("musl", "gnu")


def rust_triple(platform: "Platform", libc: str = "musl") -> str:
    """The Rust target triple for a platform: musl by default, static glibc with libc="gnu"."""
    if libc not in RUST_LIBCS:
        raise UsageError(f"unknown Rust libc {libc!r}: use musl or gnu")
    pair = _RUST_TRIPLES.get((platform.architecture, platform.variant))
    if platform.os != "linux" or pair is None:
        raise UsageError(f"pyko has no Rust target for {platform}")
    return pair[RUST_LIBCS.index(libc)]


def parse_platforms(values: Iterable[str], available: Optional[Iterable[Platform]] = None) -> List[Platform]:
    """Turn `--platform` values (comma lists allowed, or `all`) into Platforms.

    `available` is what the base image offers; `all` expands to it, and any
    other request must be one of them.
    """
    texts = [t.strip() for v in values for t in v.split(",") if t.strip()]
    available = list(available) if available is not None else [Platform.parse(p) for p in ALL_LINUX]
    if "all" in texts:
        if len(texts) > 1:
            raise UsageError("--platform all cannot be combined with other platforms")
        return available
    wanted = []
    for text in texts:
        plat = Platform.parse(text)
        if plat not in available:
            offered = ", ".join(str(p) for p in available)
            raise UsageError(f"unknown platform {text!r}: the base image offers {offered}")
        if plat not in wanted:
            wanted.append(plat)
    return wanted


def platform_order(platform: "Platform") -> Tuple[int, str]:
    """The fixed order of platforms in an index pyko writes (ALL_LINUX's, then others by name),
    whatever order they were asked for: so indexes merged from per-platform builds come out
    byte-identical to one multi-platform build."""
    text = str(platform)
    return (ALL_LINUX.index(text), "") if text in ALL_LINUX else (len(ALL_LINUX), text)
