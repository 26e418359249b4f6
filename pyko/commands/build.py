"""Orchestration: a resolved Plan -> bases -> binaries (in parallel) -> images -> destinations.

The CLI resolves flags, config and environment into a Plan (pyko.plan) and
calls build(). Here each ResolvedBuild gets its base (commands/bases.py), a
toolchain driver's tasks for each of its Sources (pyko.toolchains), its kodata
checked, and after compiling, its images (pyko.image), SBOMs and provenance
(pyko.supplychain.sbom, .provenance) and signatures (pyko.supplychain.attach),
then every destination writes it (pyko.transport.destinations). Only the cli
imports this module.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple, Union

from ..errors import BuildError, RegistryError, SigningError, UsageError, clean_text
from ..image import Index, Layer, Manifested
from ..image.app import AppSpec, app_image, binary_layer, kodata_layer
from ..image.kodata import KODATA_DIR, allowed_root, ko_empty_kodata, kodata_entries, merge_kodata
from ..image.layer import TarEntry
from ..image.layer_cache import LayerCache
from ..image.pgzip import Deflater, compat, pinned
from ..inventory import Inventory
from ..plan.resolve import DEFAULT_TAGS, BasePlan, OutputSettings, Plan, ResolvedBuild
from ..platforms import Platform, parse_platforms, platform_order
from ..reference import Reference, shown_tag
from ..supplychain import provenance, sbom
from ..supplychain.attach import Attaching, Subject, attach_all
from ..supplychain.sign import Signing, Stored, open_signer
from ..supplychain.signers import Signer
from ..toolchains import BuildContext, BuildTask, Target, build_checked
from ..toolchains.drivers import ToolchainRun
from ..transport.destinations import Destination, Outgoing
from ..transport.destinations.layout import LayoutDestination
from ..transport.destinations.local import LocalDestination
from ..transport.destinations.registry import RegistryDestination
from ..transport.destinations.tarball import TarballDestination
from ..transport.registry.client import Unreachable
from ..transport.registry.hosts import Registries
from ..util.atomic import write_bytes
from ..util.jsontypes import JsonObject
from ..util.progress import Reporter
from ..util.timestamps import rfc3339
from .bases import Base, BuiltinBase, open_base, verify_base
from .go_build_cache import CacheTrust, open_cache, save_cache
from .registries import registries_for


@dataclass(frozen=True)
class Sbom:
    subject: str        # the digest it describes
    filename: str       # its name in --sbom-dir
    document: bytes     # SPDX JSON


@dataclass(frozen=True)
class Output:
    """A destination an image was written to: its kind (registry, oci-layout, tarball, local) and where."""

    kind: str
    location: str


@dataclass(frozen=True)
class Attested:
    """An SLSA provenance predicate about one subject (the index or a platform image), to be attested."""

    subject: str                        # the digest it is about
    predicate: JsonObject


@dataclass(frozen=True)
class Built:
    name: str                           # the full image name (repo-qualified when pushed)
    index: Index
    tags: Tuple[str, ...] = DEFAULT_TAGS
    target: Optional[Reference] = None  # where it is pushed, when it is
    sboms: Tuple[Sbom, ...] = ()
    tag_only: bool = False              # --tag-only: the reference is name:TAG
    by_digest: bool = False             # --push-by-digest: no tag was moved
    local: bool = False                 # --local: the reference is the engine's pyko.local/NAME:<hex>
    outputs: Tuple[Output, ...] = ()             # each destination written
    attachments: Tuple[Stored, ...] = ()         # signatures and SBOMs stored beside it
    signed_by: str = ""                          # who signed it (the key, or the keyless identity)
    provenance: Tuple[Attested, ...] = ()        # when attesting: a predicate per subject
    printed: str = ""                            # a ko user's reference where ko prints another (_ko_printed)
    alone: bool = False                          # a ko user's one platform: the image is written alone, no index

    @property
    def top(self) -> Manifested:
        """What is tagged, printed, signed and attested first: the index, or its one image alone."""
        return self.index.top(self.alone)

    @property
    def one_tag(self) -> str:
        """The tag the reference names (ko's rule, reference.shown_tag); none when no tag was moved."""
        return "" if self.by_digest else shown_tag(self.tags)

    @property
    def reference(self) -> str:
        if self.printed:
            return self.printed
        if self.local:
            return f"{self.name}:{self.top.digest.split(':', 1)[1]}"
        if self.tag_only:
            return f"{self.name}:{self.tags[0]}"
        tag = f":{self.one_tag}" if self.one_tag else ""
        return f"{self.name}{tag}@{self.top.digest}"


@dataclass(frozen=True)
class BuiltBinary:
    """One compiled (or prebuilt) binary, checked, and the layer that holds it."""

    layer: Layer
    path: str


@dataclass(frozen=True)
class _Job:
    """One image on its way: the plan's build, its base, its binaries' toolchain targets."""

    build: ResolvedBuild
    base: Base
    targets: Tuple[Target, ...]         # one per binary; the command's is in `spec`
    spec: AppSpec
    kodata: Optional[List[TarEntry]]    # checked kodata entries (merged from every binary's), or None
    name: str                           # the image's name (its repository's, when pushed)
    ref: Optional[Reference]            # where it is pushed, when it is

    @property
    def platforms(self) -> List[Platform]:
        return list(self.targets[0].tasks)


def destinations_for(outputs: OutputSettings, registries: Registries, jobs: int,
                     environ: Mapping[str, str]) -> List[Destination]:
    """Every output the plan asks for, in the order they are written."""
    found: List[Destination] = []
    if outputs.oci_layout:
        found.append(LayoutDestination(outputs.oci_layout))
    if outputs.push:
        found.append(RegistryDestination(registries, outputs.registry_hosts, jobs,
                                         move_tags=not outputs.push_by_digest))
    if outputs.local_engine:
        found.append(LocalDestination(outputs.local_engine, environ, outputs.local_platform))
    if outputs.tarball:
        found.append(TarballDestination(outputs.tarball))
    return found


def _open_outputs(plan: Union[Plan, BasePlan], reporter: Reporter) -> Tuple[Registries, List[Destination]]:
    """The registry clients and the checked destinations of a Plan or BasePlan."""
    registries = registries_for(plan.registry, plan.environ, reporter)
    destinations = destinations_for(plan.outputs, registries, plan.jobs, plan.environ)
    for destination in destinations:
        destination.check()  # an unwritable output or a registry that is down fails before compiling
    return registries, destinations


def deflater_for(compression: str) -> Deflater:
    """The deflate the layers are made with: the pinned zlib-ng, or (--compression-compat) this
    Python's own zlib, whose bytes depend on the machine."""
    return compat() if compression == "compat" else pinned()


def build(plan: Plan, reporter: Reporter) -> List[Built]:
    registries, destinations = _open_outputs(plan, reporter)
    # Ask for the key's password, or find the OIDC token, before compiling, not after.
    signer = open_signer(plan.signing.signer, plan.environ, plan.sigstore_offline)
    deflater = deflater_for(plan.compression)   # a missing zlib-ng is said before compiling too
    with tempfile.TemporaryDirectory(prefix="pyko-") as workdir:
        cache = open_cache(plan.go_cache, registries, plan.environ, workdir, plan.jobs, reporter,
                           CacheTrust(plan.registry.timeout, plan.sigstore_offline, plan.cache_dir))
        environ = {**plan.environ, **(cache.environ if cache else {})}
        toolchains = ToolchainRun([source for build in plan.builds for source in build.sources()], environ,
                                  plan.cache_dir)
        build_cache = cache.build_cache if cache else {}   # for the provenance: the cache entries came from
        jobs = [_prepare(build, plan, registries, workdir, reporter, toolchains, environ, build_cache, deflater)
                for build in plan.builds]
        _refuse_twins(jobs)
        for line in toolchains.summary():
            reporter.info(line)
        placed = [(job, target, task) for job in jobs for target in job.targets for task in target.tasks.values()]
        # Which image recipe and binary name each task's layer is made with.
        specs = {task.key: job.spec for job, _, task in placed}
        names = {task.key: target.name for _, target, task in placed}
        layers = LayerCache(plan.cache_dir, deflater)
        started = time.time()
        # Each binary becomes its layer in the worker that built it, while other platforms still compile.
        binary_layers = _run_tasks(
            [task for _, _, task in placed],
            lambda task, binary: binary_layer(binary, specs[task.key], layers, names[task.key]),
            plan.jobs, reporter,
        )
        times = (started, time.time())
        save_cache(cache, registries, workdir, reporter, signer, rfc3339(plan.epoch))
        results = [_assemble(job, binary_layers, layers, plan, reporter, times) for job in jobs]
        if layers.hits:
            reporter.info(f"layer cache: {layers.hits} layer(s) reused, {layers.misses} written")
        if signer is not None:
            signer.prepare()   # a keyless certificate is fetched before anything is pushed
        written = [_write(built, plan, destinations, signer, reporter) for built in results]
    if registries.retries:
        # The push line counts the image's own requests; this one also counts the base, SBOMs and signatures.
        reporter.info(f"{registries.retries} registry request(s) retried in all")
    return written


def _prepare(build: ResolvedBuild, plan: Plan, registries: Registries, workdir: str, reporter: Reporter,
             toolchains: ToolchainRun, environ: Dict[str, str], build_cache: Mapping[str, object],
             deflater: Deflater) -> _Job:
    """Open the base, pick the platforms, get the drivers' tasks, check kodata: all before compiling."""
    try:
        base = open_base(build.base, plan.cache_dir, registries, deflater)
        if build.base_policy is not None:
            for line in verify_base(base, build.base_policy, registries, plan.sigstore_offline, plan.cache_dir):
                reporter.info(line)
        available = base.platforms()
    except Unreachable as err:   # the hint is about the base, not about where images are pushed
        raise RegistryError(f"cannot reach the registry of the base image {clean_text(build.base, 200)} "
                            f"({err.registry}: {err.reason}): check the base (--base, defaultBaseImage or "
                            "baseImageOverrides)") from None
    platforms = parse_platforms(build.platforms, available=available)
    context = BuildContext(workdir, plan.cache_dir, plan.epoch, environ, build_cache)
    targets = tuple(toolchains.target(source, platforms, context) for source in build.sources())
    for target in targets:
        for note in target.notes:
            reporter.info(note)
    command = _command(targets, build.command)
    spec = AppSpec(command.name, build.image, ko_modes=plan.ko_mode)
    name = build.image_name(targets[0].name, targets[0].import_path)
    ref = build.target_for(name)
    reporter.info(f"{name}: {len(platforms)} platform(s) on {build.base}: " + ", ".join(str(p) for p in platforms))
    return _Job(build, base, targets, spec, _kodata(targets, plan.kodata_root, plan.ko_mode), ref.name if ref else name,
                ref)


def _command(targets: Sequence[Target], wanted: str) -> Target:
    """The binary that is the image's command: the one named, else the first."""
    names = [t.name for t in targets]
    twice = {n for n in names if names.count(n) > 1}
    if twice:
        raise UsageError(f"two binaries of one image are named {sorted(twice)[0]}: /ko-app holds one of each name")
    if not wanted:
        return targets[0]
    for target in targets:
        if target.name == wanted:
            return target
    raise UsageError(f"cmd = {wanted!r} names none of the image's binaries ({', '.join(names)})")


def _kodata(targets: Sequence[Target], kodata_root: str, ko_mode: bool) -> Optional[List[TarEntry]]:
    """Every binary's kodata/, merged; one path with two different contents is an error. For a ko
    user, as ko packs it: links confined to kodata/, every mode 0555, and the layer even without kodata/."""
    found = []
    for target in targets:
        kodata_dir = os.path.join(target.source_dir, KODATA_DIR) if target.source_dir else ""
        if kodata_dir and os.path.lexists(kodata_dir):
            root = allowed_root(target.source_dir, kodata_root, ko_mode)
            found.append((kodata_dir, kodata_entries(kodata_dir, root, ko_modes=ko_mode)))
    return merge_kodata(found) if found else ko_empty_kodata() if ko_mode else None


def _refuse_twins(jobs: Sequence[_Job]) -> None:
    """Two images of one run may not share a name: the second would replace the first."""
    seen: Dict[str, str] = {}
    for job in jobs:
        where = job.build.path or job.name
        if job.name in seen:
            raise UsageError(f"two images would be named {job.name} ({seen[job.name]} and {where}): "
                             "give one a `name` in its [[builds]] entry")
        seen[job.name] = where


def _run_tasks(tasks: Sequence[BuildTask], make_layer: Callable[[BuildTask, str], Layer], jobs: int,
               reporter: Reporter) -> Dict[Hashable, "BuiltBinary"]:
    """Build every distinct task once, `jobs` at a time; each binary becomes a layer."""
    unique = list({t.key: t for t in tasks}.values())

    def one(task: BuildTask) -> BuiltBinary:
        reporter.start(task.label)
        started = time.monotonic()
        binary = build_checked(task)
        layer = make_layer(task, binary)
        reporter.finish(task.label, time.monotonic() - started)
        return BuiltBinary(layer, binary)

    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, t): t.key for t in unique}
        try:
            return {futures[f]: f.result() for f in cf.as_completed(futures)}
        except BaseException:
            for f in futures:
                f.cancel()  # builds not yet started are dropped; running ones finish
            raise


def _assemble(job: _Job, built_binaries: Dict[object, BuiltBinary], layers: LayerCache, plan: Plan,
              reporter: Reporter,
              times: Tuple[float, float] = (0.0, 0.0)) -> Built:
    extra = [kodata_layer(job.kodata, job.spec, layers)] if job.kodata is not None else []
    ours = dict(job.build.image.annotations)
    images = [
        app_image(job.base.image_for(platform),
                  extra + [built_binaries[target.tasks[platform].key].layer for target in job.targets],
                  job.spec, bool(extra), {**job.base.annotations(platform), **ours})
        for platform in sorted(job.platforms, key=platform_order)
    ]
    index = Index.build(images, {**job.base.annotations(), **ours})
    # As ko: a ko user's one platform is an image alone, with no index around it. Not with
    # --push-by-digest (pyko's, not ko's): its per-runner indexes merge, with `pyko index create`,
    # into the very index one multi-platform build gives, index annotations included.
    alone = plan.ko_mode and len(images) == 1 and not plan.outputs.push_by_digest
    # Only when something receives them: a push (attached), --sbom-dir, or attestations.
    wanted = plan.outputs.sboms and (plan.outputs.sbom_dir or plan.outputs.push or plan.signing.attest)
    sboms = _sboms(job.name, job, index, built_binaries, reporter, plan.outputs.sbom_partial, alone) if wanted else ()
    provenance = _provenance(job, index, plan, times, layers.deflater, alone) if plan.signing.attest else ()
    printed = _ko_printed(plan, job.name, job.build.tags, index.top(alone).digest) if plan.ko_mode else ""
    return Built(job.name, index, job.build.tags, job.ref, sboms, tag_only=plan.outputs.tag_only,
                 by_digest=plan.outputs.push_by_digest, local=bool(plan.outputs.local_engine), provenance=provenance,
                 printed=printed, alone=alone)


def _ko_printed(plan: Plan, name: str, tags: Sequence[str], digest: str) -> str:
    """The reference ko prints when it pushes nothing (its last publisher's): DIR@sha256:… for an OCI
    layout alone, and NAME:<first tag>@sha256:… with no destination at all. "" where ko prints what
    pyko prints anyway (a push, a tarball, a local engine, --tag-only)."""
    out = plan.outputs
    if out.push or out.tarball or out.local_engine or out.tag_only:
        return ""
    if out.oci_layout:
        return f"{out.oci_layout}@{digest}"
    return f"{name}:{tags[0]}@{digest}" if tags else ""


def _provenance(job: _Job, index: Index, plan: Plan, times: Tuple[float, float], layers_deflater: Deflater,
                alone: bool = False) -> Tuple[Attested, ...]:
    """An SLSA v1 predicate for the index (unless its one image is written alone) and for each platform image."""
    epoch = provenance.epoch_if_set(plan.environ, plan.epoch)
    binaries = tuple((target.name, target.recipe) for target in job.targets)
    out = []
    whole = [] if alone else [(index, (job.base.name, job.base.digest), provenance.platforms_of(index.images))]
    for subject, base_identity, platforms in whole + \
            [(image, job.base.identity(image.platform), (str(image.platform),)) for image in index.images]:
        facts = provenance.BuildFacts(job.build.path, job.name, job.build.tags, job.build.base, base_identity,
                                      platforms, binaries, *times, compression=layers_deflater.provenance())
        out.append(Attested(subject.digest, provenance.predicate(facts, plan.environ, epoch)))
    return tuple(out)


def _sboms(name: str, job: _Job, index: Index, built_binaries: Mapping[Hashable, BuiltBinary], reporter: Reporter,
           partial: bool = False, alone: bool = False) -> Tuple[Sbom, ...]:
    """One SPDX document per platform image, then one for the index (none when the image is alone)."""
    created = rfc3339(job.spec.image.epoch)
    out = []
    for image in index.images:
        platform = image.platform
        binaries = []
        for target in job.targets:
            path = built_binaries[target.tasks[platform].key].path
            inventory = target.packages(path, platform) if target.packages else Inventory()
            if not inventory.complete:
                what = (f"the SBOM of {name} ({platform}) cannot list what was compiled into {target.name}: "
                        f"{inventory.note}")
                if not partial:
                    raise BuildError(f"{what}; fix that, or accept a partial SBOM (marked NOASSERTION) "
                                     "with --sbom-partial")
                reporter.info(f"warning: {what}")
            binaries.append(sbom.Binary.of(target.name, sbom.file_sha256(path), inventory))
        document = sbom.image_sbom(name, platform, image.digest, created, binaries, job.base.identity(platform),
                                   job.base.contents())
        out.append(Sbom(image.digest, sbom.sbom_filename(name, platform), document))
    if alone:
        return tuple(out)
    children = [(img.platform, img.digest) for img in index.images]
    out.append(Sbom(index.digest, sbom.sbom_filename(name, None),
                    sbom.index_sbom(name, index.digest, created, children)))
    return tuple(out)


def _write(built: Built, plan: Plan, destinations: Sequence[Destination], signer: Optional[Signer],
           reporter: Reporter) -> Built:
    out = Outgoing(built.name, built.index, built.tags, built.target, alone=built.alone)
    stores, written, stored = [], [], []
    for destination in destinations:
        reporter.info(destination.write(out))
        written.append(Output(destination.kind, destination.location(out)))
        store = destination.attachments(out)
        if store is not None:
            layout = destination.location(out) if destination.kind == "oci-layout" else ""
            stores.append((store, destination.takes_sboms, layout))
    if plan.outputs.sbom_dir and built.sboms:
        os.makedirs(plan.outputs.sbom_dir, exist_ok=True)
        for item in built.sboms:
            write_bytes(os.path.join(plan.outputs.sbom_dir, item.filename), item.document)
        reporter.info(f"wrote {len(built.sboms)} SBOM(s) to {plan.outputs.sbom_dir}")
    how = Attaching(built.name, signer, plan.signing.form, tuple(plan.signing.annotations), rfc3339(plan.epoch))
    subjects = _subjects(built, signer is not None and plan.signing.recursive)
    for store, takes_sboms, layout in stores:
        try:
            stored += attach_all(store, subjects, dataclasses.replace(how, takes_sboms=takes_sboms), plan.jobs,
                                 parallel=store.parallel)
        except SigningError as err:
            assert signer is not None
            again = Signing(signer, plan.signing.recursive, plan.signing.form, key=plan.signing.signer.key)
            raise again.unsigned(f"{built.name}@{built.top.digest}", err, layout) from None
        if signer is not None:
            attested = f", {len(built.provenance) * 2} attestation(s)" if built.provenance else ""
            signed = sum(subject.signed for subject in subjects)
            reporter.info(f"signed {signed} manifest(s) of {built.name}{attested} ({plan.signing.form} format) "
                          f"as {signer.description}")
    return dataclasses.replace(built, outputs=tuple(written), attachments=tuple(stored),
                               signed_by=signer.description if signer is not None and stores else "")


def _subjects(built: Built, recursive: bool) -> List[Subject]:
    """The index (unless the image is alone), then each platform's image: its SBOM, whether it is
    signed, its provenance."""
    sboms = {item.subject: item.document for item in built.sboms}
    predicates = {attested.subject: attested.predicate for attested in built.provenance}
    whole = [] if built.alone else [(built.index.digest, built.index.descriptor)]
    manifests = whole + [(image.digest, image.descriptor) for image in built.index.images]
    return [Subject(descriptor, sboms.get(digest), signed=(n == 0 or recursive), provenance=predicates.get(digest))
            for n, (digest, descriptor) in enumerate(manifests)]


def publish_base(plan: BasePlan, reporter: Reporter) -> List[Built]:
    """`pyko base`: the built-in base itself, pushed and/or written."""
    _, destinations = _open_outputs(plan, reporter)
    full = BuiltinBase(plan.cache_dir)
    platforms = parse_platforms(plan.platforms, available=full.platforms())
    index = Index.build([full.image_for(p) for p in platforms])
    reporter.info(f"built-in base: {len(platforms)} platform(s)")
    built = Built(plan.target.name if plan.target else "pyko-static", index, plan.outputs.tags, plan.target)
    out = Outgoing(built.name, index, built.tags, plan.target)
    for destination in destinations:
        reporter.info(destination.write(out))
    return [built]
