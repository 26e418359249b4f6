"""The Rust driver: `cargo build --release --target <triple> --bin <name>` per platform.

musl targets by default (static by nature); `libc="gnu"` builds glibc binaries
with `-C target-feature=+crt-static`. Each triple gets its own target
directory (`<cargo target dir>/pyko/<triple>`), so platforms build at the same
time without waiting on cargo's build-directory lock, and incremental builds
survive between runs. The user's cargo config and CARGO_TARGET_<TRIPLE>_LINKER
are left to cargo, which reads them itself.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import urllib.parse
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

from .. import children
from ..errors import BuildError, UsageError
from ..plan import ResolvedBuild
from ..platforms import Platform, rust_triple
from ..sbom import Package
from . import BuildContext, BuildTask, Target, with_build_env

BUILDERS = ("cargo", "zigbuild")
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
        first = next((ln for ln in proc.stderr.splitlines() if ln.strip()), "cargo metadata failed")
        raise BuildError(f"{path}: {first.strip()}", details=proc.stderr)
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


@functools.lru_cache(maxsize=None)
def _sysroot(rustc: str) -> str:
    proc = children.run([rustc, "--print", "sysroot"], text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def check_target_installed(triple: str, libc: str, environ: Mapping[str, str]) -> None:
    """Fail before building if the target's standard library is missing, saying how to fix it."""
    rustc = shutil.which(environ.get("RUSTC", "rustc"), path=environ.get("PATH")) or "rustc"
    sysroot = _sysroot(rustc)
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


def rust_target(build: ResolvedBuild, platforms: Iterable[Platform],
                environ: Optional[Mapping[str, str]] = None) -> Target:
    settings = build.toolchain
    if settings.rust_builder not in BUILDERS:
        raise UsageError(f"unknown Rust builder {settings.rust_builder!r}: use cargo or zigbuild")
    environ = with_build_env(dict(os.environ if environ is None else environ), settings.env, build.path)
    cargo = _cargo(environ)
    crate = inspect_crate(cargo, build.path, settings.bin, environ)
    tasks = {}
    for platform in platforms:
        triple = rust_triple(platform, settings.rust_libc)
        check_target_installed(triple, settings.rust_libc, environ)
        run = _builder(cargo, settings.rust_builder, crate, triple, settings.flags,
                       build_env(triple, settings.rust_libc, environ), f"{build.name} ({platform}, {triple})")
        tasks[platform] = BuildTask(("rust", crate.dir, crate.bin, triple), f"{build.name} {platform}", platform, run)
    crate_packages = functools.lru_cache(maxsize=1)(lambda: tuple(cargo_packages(cargo, crate.dir, environ)))
    return Target(build.name, crate.dir, tasks, packages=lambda binary: list(crate_packages()))


class RustDriver:
    """A directory with a Cargo.toml."""

    def claims(self, build: ResolvedBuild) -> bool:
        return not build.prebuilt and is_crate(build.path)

    def target(self, build: ResolvedBuild, platforms, context: BuildContext) -> Target:
        return rust_target(build, platforms, context.environ)


def _builder(cargo: str, builder: str, crate: Crate, triple: str, flags: Sequence[str],
             env: Mapping[str, str], what: str):
    target_dir = os.path.join(crate.target_dir, "pyko", triple)
    command = [cargo, "zigbuild" if builder == "zigbuild" else "build", "--release", "--target", triple,
               "--bin", crate.bin, "--target-dir", target_dir, *flags]

    def run() -> str:
        proc = children.run(command, cwd=crate.dir, env=dict(env), text=True)
        if proc.returncode != 0:
            raise BuildError(f"cargo build failed for {what} (exit {proc.returncode}); "
                             "cargo's output is above", details=proc.stderr + proc.stdout)
        return os.path.join(target_dir, triple, "release", crate.bin)

    return run


# --- what went into a binary, for its SBOM ---------------------------------------
def cargo_packages(cargo: str, crate_dir: str, env=None) -> List[Package]:
    """The crate and what it depends on (normal and build deps, not dev), from cargo metadata."""
    proc = children.run([cargo, "metadata", "--format-version", "1", "--offline"], cwd=crate_dir,
                        text=True, env=env)
    if proc.returncode != 0:
        return []
    meta = json.loads(proc.stdout)
    by_id = {p["id"]: p for p in meta["packages"]}
    root = (meta.get("resolve") or {}).get("root")
    if root is None:  # a workspace member: the one whose manifest is in crate_dir
        root = next((p["id"] for p in meta["packages"]
                     if p["manifest_path"].rsplit("/", 1)[0] == crate_dir.rstrip("/")), None)
    nodes = {n["id"]: n for n in (meta.get("resolve") or {}).get("nodes", [])}
    seen, todo = [], [root] if root else []
    while todo:
        current = todo.pop()
        if current in seen or current not in by_id:
            continue
        seen.append(current)
        for dep in nodes.get(current, {}).get("deps", []):
            if any(k.get("kind") != "dev" for k in dep.get("dep_kinds", [{}])):
                todo.append(dep["pkg"])
    out = []
    for pid in seen:
        p = by_id[pid]
        purl = f"pkg:cargo/{urllib.parse.quote(p['name'])}@{urllib.parse.quote(p['version'])}"
        out.append(Package(p["name"], p["version"], purl, "", "", "APPLICATION" if pid == root else "LIBRARY"))
    return out[:1] + sorted(out[1:], key=lambda p: p.name)
