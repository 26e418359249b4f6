"""Toolchain drivers: each turns a source directory into one static binary per platform.

A driver (Driver) is handed a Source, a narrow description of one binary to make
(where its source is, how to compile it, or which prebuilt files it is), never the
whole plan. It says whether the Source is its own and gives the orchestrator a
Target: the image's name, its source directory (where kodata is looked for),
and one BuildTask per platform. Tasks with the same key make the same binary
(e.g. two platforms that map to one GOARCH), so they run once.
The drivers, in the order they are asked, are in drivers.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Dict, Hashable, Iterable, Mapping, Optional, Protocol, Sequence, Tuple

from ..errors import UsageError
from ..inventory import Inventory, Lockfile, Recipe, Settings
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


def environment_settings(environ: Mapping[str, str], with_values: Iterable[str],
                         names_only: Iterable[str] = ()) -> Settings:
    """What of the build's environment reaches the compiler, for provenance: the values of the
    variables in `with_values` that are set (build settings such as GOFLAGS or RUSTFLAGS), and only
    the names of those starting with a `names_only` prefix (CARGO_*: some hold registry tokens)."""
    values = {key: environ[key] for key in sorted(set(with_values)) if environ.get(key)}
    prefixes = tuple(names_only)
    names = sorted(key for key in environ if prefixes and key.startswith(prefixes) and key not in values)
    return Settings(values, tuple(names))


def lockfile(path: str) -> Tuple[Lockfile, ...]:
    """The lock file (go.sum, Cargo.lock) at `path` when there is one, for provenance."""
    if not path or not os.path.isfile(path):
        return ()
    import hashlib

    with open(path, "rb") as f:
        return (Lockfile(os.path.basename(path), hashlib.sha256(f.read()).hexdigest()),)


def env_names(entries: Iterable[str]) -> Tuple[str, ...]:
    """The variables a build's env entries set, sorted: names only (for provenance), as values may be secrets."""
    return tuple(sorted(item.partition("=")[0] for item in entries))


@dataclass(frozen=True)
class ToolchainSettings:
    """How a toolchain compiles one binary."""

    env: Tuple[str, ...] = ()           # "KEY=VALUE", the build environment
    flags: Tuple[str, ...] = ()
    ldflags: Tuple[str, ...] = ()
    bin: str = ""                       # Rust: the binary target of a crate with several
    rust_libc: str = "musl"
    rust_builder: str = "auto"


@dataclass(frozen=True)
class Source:
    """One binary to make: what a driver needs to know, and nothing more."""

    path: str                           # the source directory ("" for bare prebuilt files)
    name: str = ""                      # the binary's name as given; "" lets the toolchain name it
    settings: ToolchainSettings = field(default_factory=ToolchainSettings)
    binaries: Mapping[Platform, str] = field(default_factory=dict)   # prebuilt: platform -> file

    @property
    def prebuilt(self) -> bool:
        return bool(self.binaries)


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
    #: What went into a built binary, for its SBOM: (binary path, platform) -> inventory.Inventory.
    packages: Optional[Callable[[str, Platform], Inventory]] = field(default=None, compare=False)
    import_path: str = ""               # Go: the main package's import path (for -P)
    #: How the toolchain makes the binaries, for the build's provenance (a prebuilt binary has none).
    recipe: Recipe = field(default_factory=Recipe, compare=False)
    notes: Tuple[str, ...] = ()         # lines for the user about how it will be built


@dataclass(frozen=True)
class BuildContext:
    """What every driver may use besides the build itself."""

    workdir: str                        # this run's scratch space, removed at exit
    cache_dir: str                      # pyko's cache: outputs kept between runs
    epoch: int                          # SOURCE_DATE_EPOCH
    environ: Mapping[str, str]
    #: The registry cache compiled packages may come from besides this machine (--cache-from): its
    #: reference, manifest digest, whether it was verified and who signed it; for the provenance.
    build_cache: Mapping[str, object] = field(default_factory=dict)


class Driver(Protocol):
    """One toolchain through a whole run, as ko's build.Interface: asked once what the run builds,
    then for each source's tasks, then for what to tell the user. A new toolchain is one Driver and
    one entry in drivers.py's DRIVERS; nothing outside toolchains/ knows which toolchain it is."""

    def claims(self, source: Source) -> bool:
        """Is this source this toolchain's?"""

    def prepare_run(self, sources: Sequence[Source], environ: Mapping[str, str], cache_dir: str) -> object:
        """Once per run, before any target, with every source this driver claims: what is cheaper asked
        of the toolchain for all of them at once (Go: one `go list` per module). Returns the driver's
        own state for the run (its type is the driver's), handed back to target and summary."""

    def target(self, source: Source, platforms: Iterable[Platform], context: BuildContext,
               state: object = None) -> Target:
        """The tasks that make the source's binaries (nothing runs yet); `state` is prepare_run's."""

    def summary(self, state: object) -> str:
        """Once the run's targets are made: a line for the user on how they will be built, or ""."""


def build_checked(task: BuildTask) -> str:
    """Run one task and check what it made is a static binary for the task's platform; its path."""
    from .elf import check_static_for

    binary = task.run()
    check_static_for(binary, task.platform, shown=f"the binary for {task.label} ({binary})")
    return binary
