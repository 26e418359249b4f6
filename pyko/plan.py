"""The build plan: CLI flags, the config and the environment, resolved once.

`resolve()` is the only place that applies precedence and checks how settings
combine. Everything after it (toolchains, images, destinations) reads frozen
values and never looks at flags, TOML or environment variables again:

  a flag  >  the image's [[builds]] entry  >  the config's defaults  >  the environment
  (PYKO_DEFAULTBASEIMAGE / PYKO_DEFAULTPLATFORMS override the file's defaults;
   PYKO_DOCKER_REPO / KO_DOCKER_REPO give the repository when --repo is not set)

Each combination that cannot work is refused here, with one error each, before
anything is pulled or compiled.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

from .config import BuildConfig, Config
from .errors import UsageError
from .image.conventions import NONROOT
from .image.timestamps import source_date_epoch
from .platforms import Platform
from .reference import Reference, check_image_name, check_tag, image_name, repository_under
from .transport.cachedir import cache_dir

DEFAULT_TAGS = ("latest",)


@dataclass(frozen=True)
class Flags:
    """What the command line said; empty or None means "not given"."""

    paths: Tuple[str, ...] = ()
    platforms: Tuple[str, ...] = ()
    base: str = ""
    tags: Tuple[str, ...] = ()
    user: str = ""
    entrypoint: bool = False
    jobs: Optional[int] = None
    oci_layout: str = ""
    tarball: str = ""
    binaries: Tuple[Tuple[str, str], ...] = ()   # --binary PLATFORM=FILE
    name: str = ""
    bin: str = ""
    rust_libc: str = ""
    rust_builder: str = ""
    repo: str = ""
    bare: bool = False
    push: bool = True
    insecure_registry: bool = False
    registry_ca_file: str = ""
    registry_timeout: float = 0
    sbom: str = "spdx"
    sbom_dir: str = ""
    sign_key: str = ""
    sign_recursive: bool = False
    sign_annotations: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ToolchainSettings:
    """How a toolchain compiles one image's binary."""

    env: Tuple[str, ...] = ()           # "KEY=VALUE", the build environment
    flags: Tuple[str, ...] = ()
    ldflags: Tuple[str, ...] = ()
    bin: str = ""                       # Rust: the binary target of a crate with several
    rust_libc: str = "musl"
    rust_builder: str = "cargo"


@dataclass(frozen=True)
class ResolvedBuild:
    """One image to make: where its binary comes from, what it is built on, where it goes."""

    name: str                                   # image name, also the binary's (/ko-app/NAME)
    path: str                                   # the source directory ("" for bare prebuilt files)
    base: str                                   # base image reference, or pyko://static
    platforms: Tuple[str, ...]                  # as asked ("all" allowed); checked against the base
    toolchain: ToolchainSettings = field(default_factory=ToolchainSettings)
    binaries: Mapping[Platform, str] = field(default_factory=dict)   # prebuilt: platform -> file
    target: Optional[Reference] = None          # its repository when there is one (pushed unless --push=false)

    @property
    def prebuilt(self) -> bool:
        return bool(self.binaries)


@dataclass(frozen=True)
class ImageSettings:
    user: str = NONROOT
    entrypoint: bool = False
    epoch: int = 0                              # SOURCE_DATE_EPOCH, or 0


@dataclass(frozen=True)
class RegistrySettings:
    insecure: bool = False
    ca_file: str = ""
    timeout: float = 0                          # 0: the transport's default


@dataclass(frozen=True)
class OutputSettings:
    tags: Tuple[str, ...] = DEFAULT_TAGS
    oci_layout: str = ""
    tarball: str = ""
    push: bool = False                          # a registry receives the images
    sboms: bool = True                          # made when something receives them
    sbom_dir: str = ""


@dataclass(frozen=True)
class SigningSettings:
    key: str = ""                               # path of the private key; "" signs nothing
    recursive: bool = False
    annotations: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Plan:
    builds: Tuple[ResolvedBuild, ...]
    image: ImageSettings
    outputs: OutputSettings
    registry: RegistrySettings
    signing: SigningSettings
    jobs: int
    cache_dir: str
    environ: Mapping[str, str]


def default_jobs(jobs: Optional[int]) -> int:
    return jobs or os.cpu_count() or 1


def repository_from(flags: Flags, environ: Mapping[str, str]) -> str:
    return flags.repo or environ.get("PYKO_DOCKER_REPO") or environ.get("KO_DOCKER_REPO") or ""


def resolve(flags: Flags, config: Config, environ: Mapping[str, str]) -> Plan:
    """The whole plan, or one UsageError naming the first thing that cannot work."""
    environ = dict(environ)
    repo = repository_from(flags, environ)
    outputs = _outputs(flags, repo)
    entries = _entries(flags, config)
    if flags.tarball and len(entries) > 1:
        raise UsageError("--tarball holds one image: build one path at a time, or use --oci-layout")
    if flags.bare and not repo:
        raise UsageError("--bare pushes to the repository itself: set --repo or PYKO_DOCKER_REPO")
    if flags.bare and len(entries) > 1:
        raise UsageError("--bare names one image: build one PATH at a time")
    if flags.sign_key and not (outputs.push or flags.oci_layout):
        raise UsageError("--sign-key signs what is pushed or written to --oci-layout: give a repo or a layout")
    builds = tuple(_build(flags, config, path, entry, binaries, repo) for path, entry, binaries in entries)
    return Plan(
        builds=builds,
        image=ImageSettings(user=flags.user or NONROOT, entrypoint=flags.entrypoint,
                            epoch=source_date_epoch(environ)),
        outputs=outputs,
        registry=_registry(flags),
        signing=SigningSettings(flags.sign_key, flags.sign_recursive, flags.sign_annotations),
        jobs=default_jobs(flags.jobs),
        cache_dir=cache_dir(environ),
        environ=environ,
    )


def _registry(flags: Flags) -> RegistrySettings:
    return RegistrySettings(flags.insecure_registry, flags.registry_ca_file, flags.registry_timeout or 0)


def _outputs(flags: Flags, repo: str) -> OutputSettings:
    return OutputSettings(tags=tuple(check_tag(t) for t in (flags.tags or DEFAULT_TAGS)),
                          oci_layout=flags.oci_layout, tarball=flags.tarball, push=bool(repo and flags.push),
                          sboms=flags.sbom != "none", sbom_dir=flags.sbom_dir)


def _entries(flags: Flags, config: Config):
    """(path, [[builds]] entry, prebuilt files) for each image: the arguments, else
    every [[builds]] entry, else '.'; or the --binary files."""
    if flags.binaries:
        if flags.paths:
            raise UsageError("--binary packs prebuilt files: give no PATH with it")
        if not flags.name:
            raise UsageError("--binary needs --name NAME for the image")
        if flags.platforms:
            raise UsageError("--platform cannot be used with prebuilt binaries: their platforms are given")
        return [("", BuildConfig(name=flags.name), dict(flags.binaries))]
    if flags.name and len(flags.paths) > 1:
        raise UsageError("--name names one image: build one PATH at a time, or use [[builds]] with name")
    if flags.paths:
        entries = [(p, config.build_for(p), {}) for p in flags.paths]
    elif config.builds:
        entries = [(b.path(config.root), b, {k: os.path.join(config.root, v) for k, v in b.binaries.items()})
                   for b in config.builds]
    else:
        entries = [(".", config.build_for("."), {})]
    for path, _, binaries in entries:
        if binaries:
            continue
        if not os.path.exists(path):
            raise UsageError(f"path {path} does not exist")
        if not os.path.isdir(path):
            raise UsageError(f"path {path} is not a directory: give a Go main package or a Rust crate "
                             "(or --binary PLATFORM=FILE for a prebuilt binary)")
    return entries


def _build(flags: Flags, config: Config, path: str, entry: BuildConfig, binaries: Mapping[str, str],
           repo: str) -> ResolvedBuild:
    effective = config.effective(entry)
    name = flags.name or entry.name or image_name(path)
    check_image_name(name, "--name" if flags.name else "the image name")
    files = {Platform.parse(p): f for p, f in binaries.items()}
    return ResolvedBuild(
        name=name,
        path=path if path and os.path.isdir(path) else "",
        base=flags.base or config.base_for(path, entry),
        platforms=tuple(binaries) if binaries else (flags.platforms or config.default_platforms
                                                    or (str(Platform.host()),)),
        toolchain=ToolchainSettings(env=effective.env, flags=effective.flags, ldflags=effective.ldflags,
                                    bin=flags.bin or entry.bin, rust_libc=flags.rust_libc or config.rust_libc,
                                    rust_builder=flags.rust_builder or config.rust_builder),
        binaries=files,
        target=repository_under(repo, name, flags.bare) if repo else None,
    )


@dataclass(frozen=True)
class BasePlan:
    """`pyko base`: the built-in base, which platforms, where it goes."""

    platforms: Tuple[str, ...]
    outputs: OutputSettings
    registry: RegistrySettings
    target: Optional[Reference]
    jobs: int
    cache_dir: str
    environ: Mapping[str, str]


def resolve_base_command(flags: Flags, environ: Mapping[str, str]) -> BasePlan:
    repo = repository_from(flags, environ)
    if not (repo or flags.oci_layout or flags.tarball):
        raise UsageError("say where the base goes: --repo REGISTRY/REPO, --oci-layout DIR or --tarball FILE")
    outputs = _outputs(flags, repo)
    return BasePlan(platforms=flags.platforms or ("all",), outputs=OutputSettings(
                        tags=outputs.tags, oci_layout=flags.oci_layout, tarball=flags.tarball, push=outputs.push,
                        sboms=False),
                    registry=_registry(flags),
                    target=repository_under(repo, "static", bare=True) if outputs.push else None,
                    jobs=default_jobs(flags.jobs), cache_dir=cache_dir(environ), environ=dict(environ))
