"""Orchestration: base -> builds (in parallel) -> images -> outputs.

This is the only module that knows about all the others; each of them knows
nothing of this one. The CLI turns flags into BuildOptions and calls build().
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from . import reference, sbom
from .attach import attach_sbom, sign_digest
from .bases import Registries, base_annotations, base_identity, mount_sources, resolve_base
from .build import BuildTask, Target
from .build.elf import check_static_for
from .build.go import go_target, is_go_package
from .build.prebuilt import prebuilt_target
from .build.rust import is_crate, rust_target
from .config import BuildConfig, Config
from .errors import UsageError
from .image import Index, Layer
from .image.app import NONROOT, AppSpec, app_image, binary_layer, kodata_layer
from .image.kodata import allowed_root, kodata_entries
from .image.static_base import static_base
from .image.timestamps import rfc3339, source_date_epoch
from .platforms import Platform, parse_platforms
from .reference import Reference, repository_under
from .sign import load_private_key
from .transport import layout, tarball
from .transport.atomic import write_bytes
from .transport.cachedir import cache_dir
from .transport.attachments import LayoutAttachments, RegistryAttachments
from .transport.registry.push import push_index

@dataclass(frozen=True)
class BuildOptions:
    paths: Tuple[str, ...] = ()
    platforms: Tuple[str, ...] = ()
    base: str = ""                      # --base: overrides the config for every path
    tags: Tuple[str, ...] = ("latest",)
    user: str = NONROOT
    entrypoint: bool = False
    jobs: int = 0                       # 0: one per CPU
    oci_layout: str = ""
    tarball: str = ""
    binaries: Tuple[Tuple[str, str], ...] = ()   # --binary PLATFORM=FILE
    name: str = ""                      # --name: image name (required with --binary)
    bin: str = ""                       # --bin: a crate's binary target
    rust_libc: str = ""                 # --rust-libc: musl or gnu (default: config)
    rust_builder: str = ""              # --rust-builder: cargo or zigbuild (default: config)
    repo: str = ""                      # --repo / PYKO_DOCKER_REPO / KO_DOCKER_REPO
    bare: bool = False                  # push to <repo> itself, not <repo>/<name>
    push: bool = True                   # --push=false: build (and write files) only
    insecure_registry: bool = False
    registry_ca_file: str = ""
    registry_timeout: float = 0         # seconds of retrying one registry operation (0: default)
    sbom: str = "spdx"                  # "none" turns SBOMs off
    sbom_dir: str = ""                  # also write the SBOM files here
    sign_key: str = ""                  # sign what is pushed (or written to the layout)
    sign_recursive: bool = False        # also sign each platform manifest
    sign_annotations: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Built:
    name: str                           # the full image name (repo-qualified when there is a repo)
    index: Index
    outputs: Tuple[str, ...] = field(default=())
    target: Optional[Reference] = None  # where it is pushed, when there is a repo
    mount_sources: Mapping[str, Reference] = field(default_factory=dict)  # base blob -> base repo
    sboms: Tuple[Tuple[str, str, bytes], ...] = ()  # (subject digest, file name, SPDX JSON)

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.index.digest}"


def _registries(options: BuildOptions, environ: Mapping[str, str], reporter) -> Registries:
    return Registries(environ, options.insecure_registry, options.registry_ca_file,
                      options.jobs or os.cpu_count() or 4, timeout=options.registry_timeout,
                      reporter=reporter)


@dataclass(frozen=True)
class _Request:
    """One image to make: a source directory, or prebuilt files, and its build settings."""

    path: str
    build: BuildConfig
    binaries: Mapping[str, str] = field(default_factory=dict)  # platform text -> file


def _requests(options: BuildOptions, config: Config) -> List[_Request]:
    """The arguments, else every [[builds]] entry, else '.'; or the --binary files."""
    if options.binaries:
        if options.paths:
            raise UsageError("--binary packs prebuilt files: give no PATH with it")
        if not options.name:
            raise UsageError("--binary needs --name NAME for the image")
        return [_Request("", BuildConfig(name=options.name), dict(options.binaries))]
    if options.name and len(options.paths) > 1:
        raise UsageError("--name names one image: build one PATH at a time, or use [[builds]] with name")
    if options.paths:
        requests = [_Request(p, config.build_for(p)) for p in options.paths]
    elif config.builds:
        requests = [_Request(b.path(config.root), b,
                             {k: os.path.join(config.root, v) for k, v in b.binaries.items()})
                    for b in config.builds]
    else:
        requests = [_Request(".", config.build_for("."))]
    for request in requests:
        if request.binaries:
            continue
        if not os.path.exists(request.path):
            raise UsageError(f"path {request.path} does not exist")
        if not os.path.isdir(request.path):
            raise UsageError(f"path {request.path} is not a directory: give a Go main package or a Rust crate "
                             "(or --binary PLATFORM=FILE for a prebuilt binary)")
    return requests


def _wanted_platforms(options: BuildOptions, config: Config, base, request: _Request) -> List[Platform]:
    if request.binaries:
        if options.platforms:
            raise UsageError("--platform cannot be used with prebuilt binaries: their platforms are given")
        return parse_platforms(list(request.binaries), available=base.platforms())
    requested = options.platforms or config.default_platforms or (str(Platform.host()),)
    return parse_platforms(requested, available=base.platforms())


def _target(request: _Request, options: BuildOptions, config: Config, platforms: Sequence[Platform],
            workdir: str, epoch: int, environ: Mapping[str, str]) -> Target:
    build = config.effective(request.build)
    name = options.name or build.name or reference.image_name(request.path)
    reference.check_image_name(name, "--name" if options.name else "the image name")
    if request.binaries:
        files = {Platform.parse(p): f for p, f in request.binaries.items()}
        source = request.path if request.path and os.path.isdir(request.path) else ""
        return prebuilt_target(name, files, source)
    if is_crate(request.path):
        return rust_target(request.path, name, build, platforms, options.rust_libc or config.rust_libc,
                           options.rust_builder or config.rust_builder, options.bin or build.bin, environ)
    if is_go_package(request.path):
        return go_target(request.path, name, build, platforms, os.path.join(workdir, "bin"), epoch, environ)
    raise UsageError(f"{request.path} holds no Go source files and no Cargo.toml: give the directory of "
                     "a Go main package or a Rust crate (or --binary PLATFORM=FILE for a prebuilt binary)")


def _check_outputs(options: BuildOptions, targets: int) -> None:
    if options.oci_layout:
        layout.check_writable(options.oci_layout)
    if options.tarball:
        tarball.check_writable(options.tarball)
        if targets > 1:
            raise UsageError("--tarball holds one image: build one path at a time, or use --oci-layout")


def _run_tasks(tasks: Sequence[BuildTask], make_layer, jobs: int, reporter) -> Dict[object, Tuple[Layer, str]]:
    """Build every distinct task once, `jobs` at a time; each binary becomes a layer."""
    unique = list({t.key: t for t in tasks}.values())

    def one(task: BuildTask) -> Tuple[Layer, str]:
        reporter.start(task.label)
        started = time.monotonic()
        binary = task.run()
        check_static_for(binary, task.platform, shown=f"the binary for {task.label} ({binary})")
        layer = make_layer(task, binary)
        reporter.finish(task.label, time.monotonic() - started)
        return layer, binary

    with cf.ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        futures = {pool.submit(one, t): t.key for t in unique}
        try:
            return {futures[f]: f.result() for f in cf.as_completed(futures)}
        except BaseException:
            for f in futures:
                f.cancel()  # builds not yet started are dropped; running ones finish
            raise


def build(options: BuildOptions, config: Config, reporter, environ: Optional[Mapping[str, str]] = None) -> List[Built]:
    environ = dict(os.environ if environ is None else environ)
    epoch = source_date_epoch(environ)
    tags = [reference.check_tag(t) for t in (options.tags or ("latest",))]
    requests = _requests(options, config)
    _check_outputs(options, len(requests))
    cache = cache_dir(environ)
    repo = options.repo or environ.get("PYKO_DOCKER_REPO") or environ.get("KO_DOCKER_REPO") or ""
    if options.bare and not repo:
        raise UsageError("--bare pushes to the repository itself: set --repo or PYKO_DOCKER_REPO")
    if options.bare and len(requests) > 1:
        raise UsageError("--bare names one image: build one PATH at a time")
    registries = _registries(options, environ, reporter)
    # Ask for the key's password before compiling, not after.
    signer = load_private_key(options.sign_key, environ) if options.sign_key else None
    if options.sign_key and not ((repo and options.push) or options.oci_layout):
        raise UsageError("--sign-key signs what is pushed or written to --oci-layout: give a repo or a layout")
    if repo and options.push:
        # Fail before compiling anything if the registry cannot be reached.
        registries(repository_under(repo, "x", options.bare).registry).connect()

    with tempfile.TemporaryDirectory(prefix="pyko-") as workdir:
        plans = []
        for request in requests:
            base_ref = options.base or config.base_for(request.path, request.build)
            base = resolve_base(base_ref, cache, registries)
            platforms = _wanted_platforms(options, config, base, request)
            target = _target(request, options, config, platforms, workdir, epoch, environ)
            spec = AppSpec(name=target.name, user=options.user, entrypoint=options.entrypoint, epoch=epoch)
            # kodata is checked (symlinks, allowed root) now, before anything compiles.
            kodata = kodata_entries(target.kodata_dir, allowed_root(target.source_dir, environ)) \
                if target.kodata_dir else None
            plans.append((target, base, spec, kodata))
            reporter.info(f"{target.name}: {len(platforms)} platform(s) on {base_ref}: "
                          + ", ".join(str(p) for p in platforms))

        specs = {task.key: spec for target, _, spec, _ in plans for task in target.tasks.values()}
        layers_dir = os.path.join(workdir, "layers")
        binary_layers = _run_tasks(
            [t for target, _, _, _ in plans for t in target.tasks.values()],
            lambda task, binary: binary_layer(binary, specs[task.key], layers_dir),
            options.jobs, reporter,
        )
        results = [_assemble(target, base, spec, kodata, binary_layers, layers_dir, repo, options)
                   for target, base, spec, kodata in plans]
        return [_write(built, options, tags, reporter, registries, signer) for built in results]


def _assemble(target: Target, base, spec: AppSpec, kodata, built_binaries: Mapping, layers_dir: str,
              repo: str, options: BuildOptions) -> Built:
    extra = [kodata_layer(kodata, spec, layers_dir)] if kodata is not None else []
    images = [
        app_image(base.image_for(platform), extra + [built_binaries[task.key][0]], spec, bool(extra),
                  base_annotations(base, platform))
        for platform, task in target.tasks.items()
    ]
    where = repository_under(repo, target.name, options.bare) if repo else None
    name = where.name if where else target.name
    index = Index.build(images, base_annotations(base))
    # Only when something receives them: a push (attached) or --sbom-dir.
    wanted = options.sbom != "none" and (options.sbom_dir or (where is not None and options.push))
    sboms = _sboms(name, target, base, spec, index, built_binaries) if wanted else ()
    return Built(name, index, target=where, mount_sources=mount_sources(base), sboms=sboms)


def _sboms(name: str, target: Target, base, spec: AppSpec, index: Index, built_binaries) -> tuple:
    """(subject digest, file name, SPDX JSON) for each platform image, then the index."""
    created = rfc3339(spec.epoch)
    out = []
    for (platform, task), image in zip(target.tasks.items(), index.images):
        binary = built_binaries[task.key][1]
        document = sbom.image_sbom(name, platform, image.digest, created, spec.name, sbom.file_sha256(binary),
                                   target.packages(binary), base_identity(base, platform))
        out.append((image.digest, sbom.sbom_filename(name, platform), document))
    children = [(p, img.digest) for p, img in zip(target.tasks, index.images)]
    out.append((index.digest, sbom.sbom_filename(name, None), sbom.index_sbom(name, index.digest, created, children)))
    return tuple(out)


def _write(built: Built, options: BuildOptions, tags: Sequence[str], reporter, registries: Registries,
           signer=None) -> Built:
    outputs = []
    stores = []  # (store, gets SBOMs?): signatures go beside each copy of the image, SBOMs to registries
    refs = [f"{built.name}:{tag}" for tag in tags]
    if options.oci_layout:
        layout.write_layout(options.oci_layout, built.index, [(r, reference.normalized(r)) for r in refs])
        outputs.append(options.oci_layout)
        # No SBOMs in layouts: no standard tool reads them there, and they would
        # crowd index.json; --sbom-dir writes them as files instead.
        stores.append((LayoutAttachments(options.oci_layout, built.name), False))
        reporter.info(f"wrote {', '.join(refs)} to OCI layout {options.oci_layout}")
    if options.push and built.target is not None:
        target = built.target
        stats = push_index(registries(target.registry), target, built.index, tags, built.mount_sources,
                           options.jobs or 4)
        outputs.append(built.name)
        stores.append((RegistryAttachments(registries(target.registry), target.repository), True))
        reporter.info(f"pushed {built.name}:{','.join(tags)} ({stats.summary()})")
        warnings = registries(target.registry).warnings
        while warnings:  # each once, as the registry sent them
            reporter.info(f"{target.registry} warns: {warnings.pop(0)}")
    _attach(built, options, stores, signer, reporter)
    if options.tarball:
        image = tarball.write_tarball(options.tarball, built.index, refs,
                                      [reference.normalized(r) for r in refs], Platform.host())
        outputs.append(options.tarball)
        reporter.info(f"wrote {options.tarball} (docker load gives {image.platform}; "
                      f"all {len(built.index.images)} platform(s) are in its OCI index)")
    return Built(built.name, built.index, tuple(outputs), built.target, built.mount_sources, built.sboms)


def _attach(built: Built, options: BuildOptions, stores: Sequence, signer, reporter) -> None:
    """SBOMs to --sbom-dir and beside the image; then the signatures."""
    if options.sbom_dir and built.sboms:
        os.makedirs(options.sbom_dir, exist_ok=True)
        for _, filename, document in built.sboms:
            write_bytes(os.path.join(options.sbom_dir, filename), document)
        reporter.info(f"wrote {len(built.sboms)} SBOM(s) to {options.sbom_dir}")
    for store, gets_sboms in stores:
        for digest, _, document in (built.sboms if gets_sboms else ()):
            attach_sbom(store, digest, document)
        if signer is not None:
            subjects = [built.index.digest] + ([img.digest for img in built.index.images]
                                               if options.sign_recursive else [])
            for digest in subjects:
                sign_digest(store, digest, built.name, signer, dict(options.sign_annotations))
            reporter.info(f"signed {len(subjects)} manifest(s) of {built.name}")


def publish_base(options: BuildOptions, config: Config, reporter,
                 environ: Optional[Mapping[str, str]] = None) -> List[Built]:
    """`pyko base`: the built-in static base itself, pushed and/or written."""
    environ = dict(os.environ if environ is None else environ)
    tags = [reference.check_tag(t) for t in (options.tags or ("latest",))]
    _check_outputs(options, 1)
    full = static_base(cache_dir(environ))
    platforms = parse_platforms(options.platforms or ("all",), available=full.platforms())
    index = Index.build([full.image_for(p) for p in platforms])
    where = repository_under(options.repo, "static", bare=True) if options.repo else None
    built = Built(where.name if where else "pyko-static", index, target=where)
    reporter.info(f"built-in base: {len(platforms)} platform(s)")
    return [_write(built, options, tags, reporter, _registries(options, environ, reporter))]
