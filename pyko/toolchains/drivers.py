"""The toolchain drivers, in the order they are asked whether a build is theirs.
A new toolchain is one module with a Driver, plus one entry here."""
from __future__ import annotations

from ..errors import UsageError
from ..plan import ResolvedBuild
from . import Driver
from .go import GoDriver
from .prebuilt import PrebuiltDriver
from .rust import RustDriver

DRIVERS = (PrebuiltDriver(), RustDriver(), GoDriver())


def driver_for(build: ResolvedBuild) -> Driver:
    for driver in DRIVERS:
        if driver.claims(build):
            return driver
    raise UsageError(f"{build.path} holds no Go source files and no Cargo.toml: give the directory of "
                     "a Go main package or a Rust crate (or --binary PLATFORM=FILE for a prebuilt binary)")
