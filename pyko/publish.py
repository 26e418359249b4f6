"""Orchestration: a resolved Plan -> bases -> binaries (in parallel) -> images -> destinations.

The CLI resolves flags, config and environment into a Plan (pyko.plan) and
calls build(). Here each ResolvedBuild gets its base (pyko.bases), a toolchain
driver's tasks (pyko.toolchains), its kodata checked, and after compiling, its
images (pyko.image), SBOMs (pyko.sbom) and signatures (pyko.supplychain), then
every destination writes it (pyko.transport.destinations). Nothing below this
module imports it.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from . import sbom
from .bases import Base, BuiltinBase, open_base
from .cosign import load_private_key
from .image import Index, Layer
from .image.app import AppSpec, app_image, binary_layer, kodata_layer
from .image.kodata import KODATA_DIR, allowed_root, kodata_entries
from .image.layer_cache import LayerCache
from .image.timestamps import rfc3339
from .plan import BasePlan, OutputSettings, Plan, RegistrySettings, ResolvedBuild
from .platforms import parse_platforms
from .reference import Reference
from .supplychain import attach_sbom, sign_digest
from .toolchains import BuildContext, BuildTask, Target
from .toolchains.drivers import driver_for
from .toolchains.elf import check_static_for
from .transport.atomic import write_bytes
from .transport.destinations import Destination, Outgoing
from .transport.destinations.layout import LayoutDestination
from .transport.destinations.registry import RegistryDestination
from .transport.destinations.tarball import TarballDestination
from .transport.registry.hosts import Registries


@dataclass(frozen=True)
class Sbom:
    subject: str        # the digest it describes
    filename: str       # its name in --sbom-dir
    document: bytes     # SPDX JSON


@dataclass(frozen=True)
class Built:
    name: str                           # the full image name (repo-qualified when pushed)
    index: Index
    target: Optional[Reference] = None  # where it is pushed, when it is
    sboms: Tuple[Sbom, ...] = ()

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.index.digest}"


@dataclass(frozen=True)
class _Job:
    """One image on its way: the plan's build, its base, its toolchain's target."""

    build: ResolvedBuild
    base: Base
    target: Target
    spec: AppSpec
    kodata: Optional[list]              # checked kodata entries, or None


def registries_for(settings: RegistrySettings, environ, jobs: int, reporter=None) -> Registries:
    return Registries(environ, settings.insecure, settings.ca_file, jobs, timeout=settings.timeout,
                      reporter=reporter)


def destinations_for(outputs: OutputSettings, registries: Registries, targets: Sequence[Reference],
                     jobs: int) -> List[Destination]:
    """Every output the plan asks for, in the order they are written."""
    found: List[Destination] = []
    if outputs.oci_layout:
        found.append(LayoutDestination(outputs.oci_layout))
    if outputs.push and targets:
        found.append(RegistryDestination(registries, targets, jobs))
    if outputs.tarball:
        found.append(TarballDestination(outputs.tarball))
    return found


def build(plan: Plan, reporter) -> List[Built]:
    registries = registries_for(plan.registry, plan.environ, plan.jobs, reporter)
    destinations = destinations_for(plan.outputs, registries, [b.target for b in plan.builds if b.target],
                                    plan.jobs)
    for destination in destinations:
        destination.check()  # an unwritable output or a registry that is down fails before compiling
    # Ask for the key's password before compiling, not after.
    signer = load_private_key(plan.signing.key, plan.environ) if plan.signing.key else None
    with tempfile.TemporaryDirectory(prefix="pyko-") as workdir:
        jobs = [_prepare(build, plan, registries, workdir, reporter) for build in plan.builds]
        specs = {task.key: job.spec for job in jobs for task in job.target.tasks.values()}
        layers = LayerCache(plan.cache_dir)
        # Each binary becomes its layer in the worker that built it, while other platforms still compile.
        binary_layers = _run_tasks(
            [task for job in jobs for task in job.target.tasks.values()],
            lambda task, binary: binary_layer(binary, specs[task.key], layers),
            plan.jobs, reporter,
        )
        results = [_assemble(job, binary_layers, layers, plan) for job in jobs]
        if layers.hits:
            reporter.info(f"layer cache: {layers.hits} layer(s) reused, {layers.misses} written")
        return [_write(built, plan, destinations, signer, reporter) for built in results]


def _prepare(build: ResolvedBuild, plan: Plan, registries: Registries, workdir: str, reporter) -> _Job:
    """Open the base, pick the platforms, get the driver's tasks, check kodata: all before compiling."""
    base = open_base(build.base, plan.cache_dir, registries)
    platforms = parse_platforms(build.platforms, available=base.platforms())
    context = BuildContext(workdir, plan.cache_dir, plan.image.epoch, plan.environ)
    target = driver_for(build).target(build, platforms, context)
    spec = AppSpec(name=target.name, user=plan.image.user, entrypoint=plan.image.entrypoint,
                   epoch=plan.image.epoch)
    kodata_dir = os.path.join(target.source_dir, KODATA_DIR) if target.source_dir else ""
    kodata = kodata_entries(kodata_dir, allowed_root(target.source_dir, plan.environ)) \
        if kodata_dir and os.path.lexists(kodata_dir) else None
    reporter.info(f"{target.name}: {len(platforms)} platform(s) on {build.base}: "
                  + ", ".join(str(p) for p in platforms))
    return _Job(build, base, target, spec, kodata)


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

    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, t): t.key for t in unique}
        try:
            return {futures[f]: f.result() for f in cf.as_completed(futures)}
        except BaseException:
            for f in futures:
                f.cancel()  # builds not yet started are dropped; running ones finish
            raise


def _assemble(job: _Job, built_binaries: Dict, layers: LayerCache, plan: Plan) -> Built:
    extra = [kodata_layer(job.kodata, job.spec, layers)] if job.kodata is not None else []
    images = [
        app_image(job.base.image_for(platform), extra + [built_binaries[task.key][0]], job.spec, bool(extra),
                  job.base.annotations(platform))
        for platform, task in job.target.tasks.items()
    ]
    name = job.build.target.name if job.build.target else job.target.name
    index = Index.build(images, job.base.annotations())
    # Only when something receives them: a push (attached) or --sbom-dir.
    wanted = plan.outputs.sboms and (plan.outputs.sbom_dir or plan.outputs.push)
    sboms = _sboms(name, job, index, built_binaries) if wanted else ()
    return Built(name, index, job.build.target, sboms)


def _sboms(name: str, job: _Job, index: Index, built_binaries) -> Tuple[Sbom, ...]:
    """One SPDX document per platform image, then one for the index."""
    created = rfc3339(job.spec.epoch)
    out = []
    for (platform, task), image in zip(job.target.tasks.items(), index.images):
        binary = built_binaries[task.key][1]
        document = sbom.image_sbom(name, platform, image.digest, created, job.spec.name, sbom.file_sha256(binary),
                                   job.target.packages(binary), job.base.identity(platform))
        out.append(Sbom(image.digest, sbom.sbom_filename(name, platform), document))
    children = [(p, img.digest) for p, img in zip(job.target.tasks, index.images)]
    out.append(Sbom(index.digest, sbom.sbom_filename(name, None),
                    sbom.index_sbom(name, index.digest, created, children)))
    return tuple(out)


def _write(built: Built, plan: Plan, destinations: Sequence[Destination], signer, reporter) -> Built:
    out = Outgoing(built.name, built.index, plan.outputs.tags, built.target)
    stores = []
    for destination in destinations:
        reporter.info(destination.write(out))
        store = destination.attachments(out)
        if store is not None:
            stores.append((store, destination.takes_sboms))
    if plan.outputs.sbom_dir and built.sboms:
        os.makedirs(plan.outputs.sbom_dir, exist_ok=True)
        for item in built.sboms:
            write_bytes(os.path.join(plan.outputs.sbom_dir, item.filename), item.document)
        reporter.info(f"wrote {len(built.sboms)} SBOM(s) to {plan.outputs.sbom_dir}")
    for store, takes_sboms in stores:
        for item in (built.sboms if takes_sboms else ()):
            attach_sbom(store, item.subject, item.document)
        if signer is not None:
            subjects = [built.index.digest] + ([img.digest for img in built.index.images]
                                               if plan.signing.recursive else [])
            for digest in subjects:
                sign_digest(store, digest, built.name, signer, dict(plan.signing.annotations))
            reporter.info(f"signed {len(subjects)} manifest(s) of {built.name}")
    return built


def publish_base(plan: BasePlan, reporter) -> List[Built]:
    """`pyko base`: the built-in base itself, pushed and/or written."""
    registries = registries_for(plan.registry, plan.environ, plan.jobs, reporter)
    destinations = destinations_for(plan.outputs, registries, [plan.target] if plan.target else [], plan.jobs)
    for destination in destinations:
        destination.check()
    full = BuiltinBase(plan.cache_dir)
    platforms = parse_platforms(plan.platforms, available=full.platforms())
    index = Index.build([full.image_for(p) for p in platforms])
    reporter.info(f"built-in base: {len(platforms)} platform(s)")
    built = Built(plan.target.name if plan.target else "pyko-static", index, plan.target)
    out = Outgoing(built.name, index, plan.outputs.tags, plan.target)
    for destination in destinations:
        reporter.info(destination.write(out))
    return [built]
