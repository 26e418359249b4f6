"""What the build's arguments name, and which of the config's names match nothing.

An argument is a directory (./cmd/app), or as in ko an import path (example.com/app/cmd/server)
or a `ko://` / `pyko://` reference, which `go list` resolves from the working directory through
the main module (toolchains.drivers.locate). With no arguments, every [[builds]] entry is built,
else '.'.

A `baseImageOverrides` key, or a builds entry, that names nothing is reported: ko would silently
use the default base for the package the user meant.
"""
from __future__ import annotations

import os
from typing import List, Mapping, Sequence, Tuple

from ..errors import UsageError, clean_text
from ..toolchains.drivers import locate
from ..toolchains.go_modules import directory_of, module_of
from .config import BuildConfig, Config

PREFIXES = ("pyko://", "ko://")

#: (source directory, its [[builds]] entry, prebuilt files by platform) for one image.
Entry = Tuple[str, BuildConfig, Mapping[str, str]]


def entries(paths: Sequence[str], config: Config, environ: Mapping[str, str]) -> List[Entry]:
    """One entry per image to build from source: the arguments, else every [[builds]] entry, else '.'."""
    if paths:
        directories = [directory_for(p, environ) for p in paths]
        unique = {os.path.realpath(d): d for d in reversed(directories)}  # a path given twice builds once
        found: List[Entry] = [(d, config.build_for(d), {}) for d in reversed(list(unique.values()))]
    elif config.builds:
        found = [(b.path(config.root), b, {k: os.path.join(config.root, v) for k, v in b.binaries.items()})
                 for b in config.builds]
    else:
        found = [(".", config.build_for("."), {})]
    for path, _, binaries in found:
        if not binaries:
            _check_directory(path, path)
    return found


def directory_for(argument: str, environ: Mapping[str, str]) -> str:
    """The directory an argument names: itself, or the package of an import path or ko:// reference."""
    target = next((argument[len(p):] for p in PREFIXES if argument.startswith(p)), argument)
    if os.path.exists(target) or target.startswith((".", "/")) or not target:
        _check_directory(target, argument)
        return target
    found = locate(target, os.getcwd(), environ)
    if not found:
        raise UsageError(f"path {clean_text(argument, 200)} does not exist, and `go list` finds no main package "
                         "of that import path from here: give a directory (./cmd/app) or an import path of "
                         "this module")
    return found


def names_like_ko(argument: str) -> bool:
    """A ko:// reference, or an import path (example.com/app/cmd/server) that is not a directory here:
    how ko users name what to build."""
    if argument.startswith("ko://"):
        return True
    if argument.startswith(PREFIXES) or argument.startswith((".", "/")) or os.path.exists(argument):
        return False
    return "." in argument.split("/", 1)[0]


def _check_directory(path: str, argument: str) -> None:
    if not os.path.exists(path):
        raise UsageError(f"path {clean_text(argument, 200)} does not exist")
    if not os.path.isdir(path):
        raise UsageError(f"path {clean_text(argument, 200)} is not a directory: give a Go main package or a Rust "
                         "crate (or --binary PLATFORM=FILE for a prebuilt binary)")


def unmatched(config: Config, environ: Mapping[str, str]) -> Tuple[str, ...]:
    """A warning for each builds entry whose directory does not exist or holds no Go package or Rust
    crate, and each baseImageOverrides key that names no build id, directory or package."""
    out = []
    for n, build in enumerate(config.builds):
        for path in build.main_paths(config.root):
            label = f"id {build.id!r}" if build.id else f"number {n + 1}"
            if build.binaries:
                continue
            if not os.path.isdir(path):
                out.append(f"builds entry {label} names {path}, which is not a directory: it matches nothing")
            elif not _holds_a_program(path):
                out.append(f"builds entry {label} names {path}, which holds no Go package (no .go file) and no "
                           "Rust crate (no Cargo.toml): it matches nothing")
    ids = {b.id for b in config.builds if b.id}
    for key in config.base_image_overrides:
        if key not in ids and not _names_package(key, config.root, environ):
            out.append(f"baseImageOverrides key {clean_text(key, 200)!r} names no build id, directory or Go "
                       "package: its base is used for nothing")
    return tuple(out)


def _holds_a_program(path: str) -> bool:
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return "Cargo.toml" in names or any(n.endswith(".go") and not n.endswith("_test.go") for n in names)


def _names_package(key: str, root: str, environ: Mapping[str, str]) -> bool:
    if os.path.isdir(os.path.join(root, key)):
        return True
    module = module_of(root)
    # Matched without regard to case, as ko matches (viper lowercases keys).
    if module:
        inside = directory_of(key.lower(), module[0].lower(), module[1])
        if inside:
            return _is_dir_ignoring_case(module[1], os.path.relpath(inside, module[1]).split(os.sep))
    return bool(locate(key, root, environ))   # a package of a dependency, as ko can build


def _is_dir_ignoring_case(root: str, parts: Sequence[str]) -> bool:
    here = root
    for part in parts:
        if part == ".":
            continue
        try:
            names = [n for n in os.listdir(here) if n.lower() == part and os.path.isdir(os.path.join(here, n))]
        except OSError:
            return False
        if not names:
            return False
        here = os.path.join(here, names[0])
    return True
