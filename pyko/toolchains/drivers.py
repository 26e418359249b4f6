"""The toolchain drivers, in the order they are asked whether a build is theirs.
A new toolchain is one module with a Driver, plus one entry here."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type

from ..errors import PykoError, UsageError
from ..platforms import Platform
from . import BuildContext, Driver, Source, Target
from .go import GoDriver, find_go, is_go_package, list_env
from .prebuilt import PrebuiltDriver
from .rust import RustDriver, is_crate

DRIVERS: Tuple[Driver, ...] = (PrebuiltDriver(), RustDriver(), GoDriver())


class ToolchainRun:
    """The toolchains of one build run: each driver prepared once with the sources it claims, then
    asked for each source's target, then for its line about how the run builds."""

    def __init__(self, sources: Sequence[Source], environ: Mapping[str, str], cache_dir: str):
        self._states: Dict[int, object] = {}   # each driver's own state for this run, by its place in DRIVERS
        claimed: Dict[int, List[Source]] = {}
        for source in sources:   # each source asked of the drivers once
            n = _driver_index(source)
            if n is not None:
                claimed.setdefault(n, []).append(source)
        for n in sorted(claimed):
            self._states[n] = DRIVERS[n].prepare_run(claimed[n], environ, cache_dir)

    def target(self, source: Source, platforms: Iterable[Platform], context: BuildContext) -> Target:
        driver = driver_for(source)
        return driver.target(source, platforms, context, self._states.get(DRIVERS.index(driver)))

    def summary(self) -> List[str]:
        lines = (driver.summary(self._states[n]) for n, driver in enumerate(DRIVERS) if n in self._states)
        return [line for line in lines if line]


def _driver_index(source: Source) -> Optional[int]:
    """The place in DRIVERS of the driver driver_for picks for `source`; None when none claims it (that is
    reported when its target is asked for)."""
    try:
        return DRIVERS.index(driver_for(source))
    except UsageError:
        return None


def driver_for(build: Source) -> Driver:
    for driver in DRIVERS:
        if driver.claims(build):
            return driver
    raise UsageError(f"{build.path} holds no Go source files and no Cargo.toml: give the directory of "
                     "a Go main package or a Rust crate (or --binary PLATFORM=FILE for a prebuilt binary)")


def locate(target: str, cwd: str, environ: Mapping[str, str]) -> str:
    """The directory a `pyko://` or `ko://` reference names, or "" if it names nothing buildable:
    a directory (./cmd/app, /abs/path, cmd/app) holding a Go package or a Cargo.toml, else a Go
    import path that `go list` finds from `cwd`."""
    candidate = os.path.normpath(os.path.join(cwd, target))
    if os.path.isdir(candidate) and (is_go_package(candidate) or is_crate(candidate)):
        return candidate
    if target.startswith((".", "/")):
        return ""
    try:
        go = find_go(environ)
    except PykoError:
        return ""
    proc = go.run(["list", "-f", "{{.Dir}}", "--", target], cwd=cwd,
                  env=list_env(environ))
    found = proc.stdout.strip() if proc.returncode == 0 else ""
    return found if found and os.path.isdir(found) else ""

if TYPE_CHECKING:   # each implementation checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    _go: Type[Driver] = GoDriver
    _rust: Type[Driver] = RustDriver
    _prebuilt: Type[Driver] = PrebuiltDriver

