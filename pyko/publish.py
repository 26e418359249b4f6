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

from . import reference
from .build import BuildTask, Target
from .build.go import go_target, is_go_package
from .config import Config
from .errors import PykoError, UsageError
from .image import Index, Layer
from .image.app import NONROOT, AppSpec, app_image, binary_layer, kodata_layer
from .image.static_base import REFERENCE as BUILTIN_BASE, static_base
from .image.timestamps import source_date_epoch
from .platforms import Platform, parse_platforms
from .transport import layout, tarball


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


@dataclass(frozen=True)
class Built:
    name: str
    index: Index
    outputs: Tuple[str, ...] = field(default=())

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.index.digest}"


def cache_dir(environ: Mapping[str, str]) -> str:
    if environ.get("PYKO_CACHE_DIR"):
        return environ["PYKO_CACHE_DIR"]
    import platformdirs

    return platformdirs.user_cache_dir("pyko")


def resolve_base(ref: str, cache: str) -> Index:
    if ref == BUILTIN_BASE:
        return static_base(cache)
    raise UsageError(
        f"base image {ref!r}: this version of pyko can only build on its built-in base; "
        f"set defaultBaseImage (or --base) to {BUILTIN_BASE}"
    )


def _source_paths(options: BuildOptions, config: Config) -> List[str]:
    """The paths to build: the arguments, else every [[builds]] entry, else '.'."""
    paths = list(options.paths) or [b.path(config.root) for b in config.builds] or ["."]
    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"path {path} does not exist")
        if not os.path.isdir(path):
            raise UsageError(f"path {path} is not a directory: give the directory of a Go main package")
    return paths


def _wanted_platforms(options: BuildOptions, config: Config, base: Index) -> List[Platform]:
    requested = options.platforms or config.default_platforms or (str(Platform.host()),)
    return parse_platforms(requested, available=base.platforms())


def _target(path: str, config: Config, platforms: Sequence[Platform], workdir: str,
            epoch: int, environ: Mapping[str, str]) -> Target:
    build = config.effective(config.build_for(path))
    if not is_go_package(path):
        raise UsageError(f"{path} holds no Go source files: give the directory of a Go main package")
    return go_target(path, reference.image_name(path), build, platforms,
                     os.path.join(workdir, "bin"), epoch, environ)


def _check_outputs(options: BuildOptions, targets: int) -> None:
    if options.oci_layout:
        layout.check_writable(options.oci_layout)
    if options.tarball:
        tarball.check_writable(options.tarball)
        if targets > 1:
            raise UsageError("--tarball holds one image: build one path at a time, or use --oci-layout")


def _run_tasks(tasks: Sequence[BuildTask], make_layer, jobs: int, reporter) -> Dict[object, Layer]:
    """Build every distinct task once, `jobs` at a time; each result becomes a layer."""
    unique = list({t.key: t for t in tasks}.values())

    def one(task: BuildTask) -> Layer:
        reporter.start(task.label)
        started = time.monotonic()
        layer = make_layer(task, task.run())
        reporter.finish(task.label, time.monotonic() - started)
        return layer

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
    paths = _source_paths(options, config)
    _check_outputs(options, len(paths))
    cache = cache_dir(environ)

    with tempfile.TemporaryDirectory(prefix="pyko-") as workdir:
        plans = []
        for path in paths:
            base_ref = options.base or config.base_for(path, config.build_for(path))
            base = resolve_base(base_ref, cache)
            platforms = _wanted_platforms(options, config, base)
            target = _target(path, config, platforms, workdir, epoch, environ)
            spec = AppSpec(name=target.name, user=options.user, entrypoint=options.entrypoint, epoch=epoch)
            plans.append((target, base, spec))
            reporter.info(f"{target.name}: {len(platforms)} platform(s) on {base_ref}: "
                          + ", ".join(str(p) for p in platforms))

        specs = {task.key: spec for target, _, spec in plans for task in target.tasks.values()}
        layers_dir = os.path.join(workdir, "layers")
        binary_layers = _run_tasks(
            [t for target, _, _ in plans for t in target.tasks.values()],
            lambda task, binary: binary_layer(binary, specs[task.key], layers_dir),
            options.jobs, reporter,
        )
        results = [_assemble(target, base, spec, binary_layers, layers_dir) for target, base, spec in plans]
        return [_write(built, options, tags, reporter) for built in results]


def _assemble(target: Target, base: Index, spec: AppSpec, binary_layers: Mapping, layers_dir: str) -> Built:
    extra = [kodata_layer(target.kodata_dir, spec, layers_dir)] if target.kodata_dir else []
    images = [
        app_image(base.image_for(platform), extra + [binary_layers[task.key]], spec, bool(extra))
        for platform, task in target.tasks.items()
    ]
    return Built(target.name, Index.build(images))


def _write(built: Built, options: BuildOptions, tags: Sequence[str], reporter) -> Built:
    outputs = []
    refs = [f"{built.name}:{tag}" for tag in tags]
    if options.oci_layout:
        layout.write_layout(options.oci_layout, built.index, [(r, reference.normalized(r)) for r in refs])
        outputs.append(options.oci_layout)
        reporter.info(f"wrote {', '.join(refs)} to OCI layout {options.oci_layout}")
    if options.tarball:
        image = tarball.write_tarball(options.tarball, built.index, refs,
                                      [reference.normalized(r) for r in refs], Platform.host())
        outputs.append(options.tarball)
        reporter.info(f"wrote {options.tarball} (docker load gives {image.platform}; "
                      f"all {len(built.index.images)} platform(s) are in its OCI index)")
    return Built(built.name, built.index, tuple(outputs))


__all__ = ["BuildOptions", "Built", "build", "PykoError"]
