"""The Rust driver: `cargo build --release --target <triple> --bin <name>` per platform.

musl targets by default (static by nature); `libc="gnu"` builds glibc binaries
with `-C target-feature=+crt-static`. Each triple gets its own target
directory (`<cargo target dir>/pyko/<triple>`), so platforms build at the same
time without waiting on cargo's build-directory lock, and incremental builds
survive between runs. The user's cargo config and CARGO_TARGET_<TRIPLE>_LINKER
are left to cargo, which reads them itself; a foreign triple with no linker
configured is refused before building, naming the variable to set.

The builder is `cargo build`, or `cargo auditable build` (the default when
cargo-auditable is installed: the crate list is then embedded in the binary),
or `cargo zigbuild`. The SBOM's crates come from rust_packages.py.
"""
from __future__ import annotations

import functools
import json
import os
import platform as _host
import shutil
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Mapping, Sequence, Tuple

from ..errors import BuildError, UsageError
from ..inventory import Inventory, RustRecipe
from ..platforms import Platform, rust_triple
from ..util import children
from . import BuildContext, BuildTask, Source, Target, env_names, environment_settings, lockfile, with_build_env
from .cargo_files import find_lock, read_toml, upwards
from .rust_packages import crate_inventory

BUILDERS = ("auto", "cargo", "auditable", "zigbuild")
CRT_STATIC = "-C target-feature=+crt-static"


def is_crate(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "Cargo.toml"))


def _cargo(environ: Mapping[str, str]) -> str:
    cargo = shutil.which(environ.get("CARGO", "cargo"), path=environ.get("PATH"))
    if not cargo:
        raise BuildError("no `cargo` found: install Rust (rustup) or put cargo on PATH")
    return cargo


@dataclass(frozen=True)
class Crate:
    dir: str
    bin: str              # the binary target to build
    target_dir: str       # cargo's target directory for this workspace


def inspect_crate(cargo: str, path: str, bin_name: str, environ: Mapping[str, str]) -> Crate:
    proc = children.run([cargo, "metadata", "--format-version", "1", "--no-deps", "--offline"],
                        cwd=path, env=dict(environ), text=True)
    if proc.returncode != 0:
        raise BuildError(f"{path}: {children.first_error_line(proc.stderr, 'cargo metadata failed')}",
                         details=proc.stderr)
    meta = json.loads(proc.stdout)
    manifest = os.path.realpath(os.path.join(path, "Cargo.toml"))
    package = next((p for p in meta["packages"] if os.path.realpath(p["manifest_path"]) == manifest), None)
    if package is None:
        raise BuildError(f"{path} is a virtual workspace manifest: point pyko at a member crate's directory")
    bins = [t["name"] for t in package["targets"] if "bin" in t["kind"]]
    if not bins:
        raise BuildError(f"crate {package['name']} at {path} has no binary target")
    if bin_name:
        if bin_name not in bins:
            raise UsageError(f"crate {package['name']} has no binary {bin_name!r}; it has: {', '.join(bins)}")
    elif len(bins) > 1:
        raise UsageError(f"crate {package['name']} has several binaries ({', '.join(bins)}): "
                         "choose one with --bin NAME or `bin` in its [[builds]] entry")
    return Crate(os.path.realpath(path), bin_name or bins[0], meta["target_directory"])


def _rustc_says(rustc: str, environ: Mapping[str, str], *args: str) -> str:
    """What `rustc ARGS` prints, run in the build's environment (a toolchain outside rustup may
    need its LD_LIBRARY_PATH); asked once per rustc, arguments and library path."""
    return _rustc_output(rustc, environ.get("PATH", ""), environ.get("LD_LIBRARY_PATH", ""), args)


@functools.lru_cache(maxsize=None)
def _rustc_output(rustc: str, path: str, library_path: str, args: Tuple[str, ...]) -> str:
    env = {"PATH": path, **({"LD_LIBRARY_PATH": library_path} if library_path else {})}
    proc = children.run([rustc, *args], text=True, env=env)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def check_target_installed(triple: str, libc: str, environ: Mapping[str, str]) -> None:
    """Fail before building if the target's standard library is missing, saying how to fix it."""
    rustc = shutil.which(environ.get("RUSTC", "rustc"), path=environ.get("PATH")) or "rustc"
    sysroot = _rustc_says(rustc, environ, "--print", "sysroot")
    if sysroot and os.path.isdir(os.path.join(sysroot, "lib", "rustlib", triple, "lib")):
        return
    other = "gnu" if libc == "musl" else "musl"
    raise BuildError(f"the Rust standard library for {triple} is not installed: run `rustup target add {triple}`"
                     f" (or try --rust-libc {other})")


def _env_key(triple: str) -> str:
    return triple.upper().replace("-", "_")


def build_env(triple: str, libc: str, environ: Mapping[str, str]) -> Dict[str, str]:
    """The environment for one cargo build: crt-static added for glibc targets,
    without clobbering the user's RUSTFLAGS or their cargo config's rustflags."""
    env = dict(environ)
    if libc == "gnu":
        if env.get("RUSTFLAGS"):  # RUSTFLAGS replaces config rustflags, so add to it
            env["RUSTFLAGS"] = f"{env['RUSTFLAGS']} {CRT_STATIC}"
        else:
            key = f"CARGO_TARGET_{_env_key(triple)}_RUSTFLAGS"
            env[key] = f"{env[key]} {CRT_STATIC}".strip() if env.get(key) else CRT_STATIC
    return env


def choose_builder(asked: str, environ: Mapping[str, str]) -> str:
    """`auto` is cargo-auditable when it is installed (the crate list then travels inside the
    binary, where scanners read it), else plain cargo."""
    if asked not in BUILDERS:
        raise UsageError(f"unknown Rust builder {asked!r}: use {', '.join(BUILDERS)}")
    installed = shutil.which("cargo-auditable", path=environ.get("PATH"))
    if asked == "auto":
        return "auditable" if installed else "cargo"
    if asked == "auditable" and not installed:
        raise BuildError("--rust-builder auditable needs cargo-auditable: cargo install cargo-auditable --locked")
    return asked


def rust_target(build: Source, platforms: Iterable[Platform], environ: Mapping[str, str]) -> Target:
    settings = build.settings
    environ = with_build_env(environ, settings.env, build.path)
    builder = choose_builder(settings.rust_builder, environ)
    cargo = _cargo(environ)
    crate = inspect_crate(cargo, build.path, settings.bin, environ)
    tasks, triples = {}, {}
    name = build.name or crate.bin
    for platform in platforms:
        triple = triples[platform] = rust_triple(platform, settings.rust_libc)
        if not builds_std(settings.flags):  # with -Zbuild-std cargo builds it from source instead
            check_target_installed(triple, settings.rust_libc, environ)
        if builder != "zigbuild":
            check_linker(triple, crate.dir, environ)
        run = _builder(cargo, builder, crate, triple, settings.flags,
                       build_env(triple, settings.rust_libc, environ), f"{name} ({platform}, {triple})")
        tasks[platform] = BuildTask(("rust", crate.dir, crate.bin, triple), f"{name} {platform}", platform, run)

    def packages(binary: str, platform: Platform) -> Inventory:
        return crate_inventory(cargo, crate.dir, triples[platform], settings.flags, environ, binary)

    lock = find_lock(crate.dir)
    rustflags = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "RUSTC_BOOTSTRAP"] + \
        [f"CARGO_TARGET_{_env_key(t)}_RUSTFLAGS" for t in sorted(set(triples.values()))]
    recipe = RustRecipe(
        "rustc", rustc_version(environ), lockfile(lock), flags=tuple(settings.flags), builder=builder,
        libc=settings.rust_libc, env=env_names(settings.env),
        added=("--release", "--target " + ", ".join(sorted(set(triples.values()))))
        + ((f"{CRT_STATIC} (RUSTFLAGS)",) if settings.rust_libc == "gnu" else ()),
        standard_library=("built from source by cargo (-Zbuild-std)" if builds_std(settings.flags)
                          else "installed in the toolchain's sysroot (rustc --print sysroot)"),
        environment=environment_settings(environ, rustflags, names_only=("CARGO_",)))
    notes: Tuple[str, ...] = ()
    if builder == "cargo" and settings.rust_builder == "auto":
        note = (f"{name}: cargo-auditable is not installed, so the binary will not carry its crate list; "
                "the SBOM lists the crates from cargo metadata (cargo install cargo-auditable --locked "
                "to embed them)")
        notes = (note,)
    return Target(name, crate.dir, tasks, packages=packages, recipe=recipe, notes=notes)


def builds_std(flags: Sequence[str]) -> bool:
    """Does cargo build the standard library itself (-Zbuild-std)? Then it need not be installed."""
    return any(flag.startswith("-Zbuild-std") for flag in flags)


def rustc_version(environ: Mapping[str, str]) -> str:
    rustc = shutil.which(environ.get("RUSTC", "rustc"), path=environ.get("PATH")) or "rustc"
    return _rustc_says(rustc, environ, "--version")


class RustDriver:
    """A directory with a Cargo.toml."""

    def claims(self, build: Source) -> bool:
        return not build.prebuilt and is_crate(build.path)

    def target(self, build: Source, platforms: Iterable[Platform], context: BuildContext,
               state: object = None) -> Target:
        return rust_target(build, platforms, context.environ)

    def prepare_run(self, sources: Sequence[Source], environ: Mapping[str, str], cache_dir: str) -> object:
        return None   # nothing to ask ahead

    def summary(self, state: object) -> str:
        return ""


def _host_triple_arch() -> str:
    return _host.machine().lower()


def check_linker(triple: str, crate_dir: str, environ: Mapping[str, str]) -> None:
    """A foreign triple needs a linker for it; cargo's default (`cc`) links only for this machine.
    Fail before building, naming the variable to set, unless one is configured."""
    arch = triple.split("-", 1)[0]
    host = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        _host_triple_arch(), _host_triple_arch())
    if arch == host or (arch == "i686" and host == "x86_64"):
        return
    variable = f"CARGO_TARGET_{_env_key(triple)}_LINKER"
    if environ.get(variable) or _configured_linker(triple, crate_dir, environ):
        return
    raise BuildError(f"no linker for {triple}: set {variable} to a linker for it (e.g. "
                     f"{_GCC.get(arch, arch + '-linux-gnu-gcc')}), set target.{triple}.linker in .cargo/config.toml, "
                     "or use --rust-builder zigbuild")


_GCC = {"aarch64": "aarch64-linux-gnu-gcc", "armv7": "arm-linux-gnueabihf-gcc", "arm": "arm-linux-gnueabihf-gcc",
        "powerpc64le": "powerpc64le-linux-gnu-gcc", "riscv64gc": "riscv64-linux-gnu-gcc",
        "s390x": "s390x-linux-gnu-gcc"}


def _configured_linker(triple: str, crate_dir: str, environ: Mapping[str, str]) -> bool:
    """Does a cargo config (the crate's directory and its parents, then CARGO_HOME) set target.<triple>.linker?"""
    directories = [os.path.join(directory, ".cargo") for directory in upwards(crate_dir)]
    directories.append(environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo"))
    for base in directories:
        for name in ("config.toml", "config"):
            data = read_toml(os.path.join(base, name), 1 << 20)
            if data is None:
                continue
            target = (data.get("target") or {}).get(triple) if isinstance(data.get("target"), dict) else None
            if isinstance(target, dict) and target.get("linker"):
                return True
    return False


def _builder(cargo: str, builder: str, crate: Crate, triple: str, flags: Sequence[str],
             env: Mapping[str, str], what: str) -> Callable[[], str]:
    target_dir = os.path.join(crate.target_dir, "pyko", triple)
    verb = {"zigbuild": ["zigbuild"], "auditable": ["auditable", "build"]}.get(builder, ["build"])
    command = [cargo, *verb, "--release", "--target", triple, "--bin", crate.bin, "--target-dir", target_dir, *flags]

    def run() -> str:
        proc = children.run(command, cwd=crate.dir, env=dict(env), text=True)
        if proc.returncode != 0:
            output = proc.stderr + proc.stdout
            if "linker `" in output and "not found" in output:
                raise BuildError(f"cargo found no linker for {triple} ({what}): set "
                                 f"CARGO_TARGET_{_env_key(triple)}_LINKER to a linker for that target",
                                 details=output)
            raise BuildError(f"cargo build failed for {what} (exit {proc.returncode}); "
                             "cargo's output is above", details=output)
        return os.path.join(target_dir, triple, "release", crate.bin)

    return run
