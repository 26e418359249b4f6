"""Toolchain drivers: each turns a source directory into one static binary per platform.

A driver (Driver) says whether a resolved build is its own and gives the
orchestrator a Target: the image's name, its source directory (where kodata is
looked for), and one BuildTask per platform. Tasks with the same key make the
same binary (e.g. two platforms that map to one GOARCH), so they run once.
The drivers, in the order they are asked, are in drivers.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Hashable, Iterable, Mapping, Protocol

from ..errors import UsageError
from ..platforms import Platform


def with_build_env(environ: Mapping[str, str], entries: Iterable[str], path: str) -> Dict[str, str]:
    """`environ` plus a build's `env` entries ("KEY=VALUE"; they win), for any toolchain."""
    out = dict(environ)
    for item in entries:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"env entry {item!r} for {path} must look like KEY=VALUE")
        out[key] = value
    return out


def env_names(entries: Iterable[str]) -> list:
    """The variables a build's env entries set, sorted: names only (for provenance), as values may be secrets."""
    return sorted(item.partition("=")[0] for item in entries)


@dataclass(frozen=True)
class BuildTask:
    key: Hashable                       # equal keys build the same binary
    label: str                          # shown in progress, e.g. "hello-go linux/arm/v7"
    platform: Platform                  # what the binary must run on (the ELF check)
    run: Callable[[], str] = field(compare=False)  # builds, returns the binary's path


@dataclass(frozen=True)
class Target:
    name: str                           # the binary's name, /ko-app/NAME; also the image's default name
    source_dir: str                     # the package/crate directory (kodata lives here); "" if none
    tasks: Dict[Platform, BuildTask]
    #: What went into a built binary, for its SBOM: (binary path, platform) -> sbom.Inventory.
    packages: Callable[[str, Platform], object] = field(default=None, compare=False)
    import_path: str = ""               # Go: the main package's import path (for -P)
    #: For the build's provenance: {"toolchain": {"name", "version"}, "flags": [...], "ldflags": [...]}.
    provenance: Mapping[str, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class BuildContext:
    """What every driver may use besides the build itself."""

    workdir: str                        # this run's scratch space, removed at exit
    cache_dir: str                      # pyko's cache: outputs kept between runs
    epoch: int                          # SOURCE_DATE_EPOCH
    environ: Mapping[str, str]


class Driver(Protocol):
    def claims(self, build) -> bool:
        """Is this resolved build (a pyko.plan.ResolvedBuild) this toolchain's?"""

    def target(self, build, platforms: Iterable[Platform], context: BuildContext) -> Target:
        """The tasks that make the build's binaries (nothing runs yet)."""
