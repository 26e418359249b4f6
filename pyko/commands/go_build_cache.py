"""--cache-from / --cache-to: Go's build cache read from and saved to a registry around one build.

Before compiling, the artifact at --cache-from fills a directory that pyko's GOCACHEPROG server
(toolchains/gocache/server.py) serves to every `go build` of the run; after a build that succeeded,
what the build used and added is saved to --cache-to (toolchains/gocache/artifact.py), and signed by the
build's signer (a bundle referrer of the cache manifest).

A cache decides what a build links, so it is trusted only as far as it is verified: the manifest's
signature is checked against the cache policy (who may have written it: a key, or a keyless
identity, as for bases) before a single layer is fetched; every layer must then match the signed
manifest and unpack cleanly, or none is used. Without a policy, only the explicit opt-out
(--cache-trust=none) reads a cache, and the log and the provenance say it was unverified. A cache
that is missing, unsigned, signed by someone else, changed, malformed, slow or unreachable is one
warning and a cold compile: it can make a build slower, never different. The whole read is bounded
by the registry timeout, however slowly a registry answers; a failed save is a warning after the
images are out.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple, TypeVar

from ..errors import PykoError
from ..image import Descriptor
from ..plan.caches import GoCacheSettings
from ..reference import Reference
from ..supplychain.signers import Signer
from ..toolchains.gocache import artifact as go_cache
from ..toolchains.gocache import cacheprog_environment
from ..transport.registry.hosts import Registries
from ..transport.registry.repository import Repository
from ..util.progress import Reporter

T = TypeVar("T")


@dataclass(frozen=True)
class CacheSource:
    """The cache a build read: what its provenance records (by digest, never by the movable tag)."""

    uri: str                    # the reference as given (registry/repository:tag)
    digest: str                 # the manifest read, which is what its signature names
    verified: bool
    signer: str = ""            # who signed it, as the cache policy names them

    def provenance(self) -> Dict[str, object]:
        out: Dict[str, object] = {"uri": self.uri, "digest": self.digest, "verified": self.verified}
        if self.verified:
            out["signer"] = self.signer
        return out


@dataclass
class GoCacheRun:
    settings: GoCacheSettings
    root: str
    go_version: str
    environ: Dict[str, str] = field(default_factory=dict)     # what `go` needs to use the server
    pulled: go_cache.PulledCache = field(default_factory=go_cache.PulledCache)
    source: Optional[CacheSource] = None                       # set when entries were read

    @property
    def build_cache(self) -> Dict[str, object]:
        """For the provenance of what this run compiles: the cache its entries came from, if any."""
        return self.source.provenance() if self.source is not None and self.pulled.layers else {}


@dataclass(frozen=True)
class CacheTrust:
    """What verifying a cache needs beyond its settings."""

    timeout: float = 300.0      # seconds for the whole read (the registry timeout)
    offline: bool = False       # never refresh Sigstore's trusted root
    cache_dir: str = ""         # where the refreshed root is kept


def open_cache(settings: GoCacheSettings, registries: Registries, environ: Mapping[str, str], workdir: str, jobs: int,
               reporter: Reporter, trust: CacheTrust = CacheTrust()) -> Optional[GoCacheRun]:
    """The cache this build compiles with, filled from --cache-from when that verifies; None when
    it has none."""
    if not (settings.cache_from or settings.cache_to):
        return None
    root = os.path.join(workdir, "gocache")
    os.makedirs(root, exist_ok=True)
    try:
        variables, version, reason = cacheprog_environment(environ, root)
    except PykoError as err:   # no Go at all: the build says so itself, if it needs Go
        reporter.info(f"warning: go cache not used: {err}")
        return None
    if reason:
        reporter.info(f"warning: {reason}")
        return None
    run = GoCacheRun(settings, root, version, variables)
    if settings.cache_from:
        _read(run, settings.cache_from, registries, jobs, reporter, trust)
    return run


def _read(run: GoCacheRun, ref: Reference, registries: Registries, jobs: int, reporter: Reporter,
          trust: CacheTrust) -> None:
    # Outside the build's workdir: a read left behind at its deadline may still write here.
    temporary = tempfile.mkdtemp(prefix="pyko-gocache-")
    staging, scratch = os.path.join(temporary, "staging"), os.path.join(temporary, "layers")
    os.makedirs(staging)
    deadline = time.monotonic() + trust.timeout
    try:
        pulled, source, line = _within(trust.timeout, lambda: _fetch(
            run, ref, registries, staging, scratch, jobs, deadline, trust))
    except PykoError as err:
        shutil.rmtree(temporary, ignore_errors=True)
        reporter.info(f"warning: go cache from {ref} not used ({err}); compiling without it")
        return
    try:
        go_cache.adopt(staging, run.root)   # whole, verified, in time: now Go's server may read it
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    run.pulled, run.source = pulled, source
    reporter.info(line)


def _fetch(run: GoCacheRun, ref: Reference, registries: Registries, staging: str, scratch: str, jobs: int,
           deadline: float, trust: CacheTrust) -> Tuple[go_cache.PulledCache, Optional[CacheSource], str]:
    """(what was pulled into `staging`, where from, a line for the user), or PykoError saying why not."""
    repository = Repository(registries(ref.registry), ref.repository)
    manifest = go_cache.read_manifest(repository, ref.identifier)
    if manifest is None:
        return go_cache.PulledCache(), None, f"go cache: nothing at {ref} yet; this build fills it"
    source = _verified(run.settings, registries, ref, manifest, trust)
    pulled, line = go_cache.pull(repository, manifest, staging, run.go_version, scratch, jobs, deadline)
    if not pulled.layers:
        return pulled, None, line
    if source.verified:
        return pulled, source, f"{line}, verified: {source.signer}"
    return pulled, source, (f"{line}, UNVERIFIED (--cache-trust=none): whoever can push to {ref.name} "
                            "decides what this build links")


def _verified(settings: GoCacheSettings, registries: Registries, ref: Reference, manifest: go_cache.CacheManifest,
              trust: CacheTrust) -> CacheSource:
    """Who signed the cache manifest, checked against the cache policy (VerificationError if no
    signature satisfies it); unverified only by the explicit opt-out."""
    from ..supplychain.verify import verifier_for, verify_signatures
    from ..transport.attachment_stores import RegistryAttachments

    if settings.policy is None:
        return CacheSource(str(ref), manifest.digest, False)
    verifier = verifier_for(settings.policy, trust.offline, trust.cache_dir)
    store = RegistryAttachments(registries(ref.registry), ref.repository)
    verify_signatures(store, manifest.digest, verifier, {}, manifest.where)
    return CacheSource(str(ref), manifest.digest, True, settings.policy.describe())


def _within(seconds: float, work: Callable[[], T]) -> T:
    """work(), in a daemon thread given at most `seconds`: a registry that drips its answers is left
    behind (it can no longer touch this build: only a finished read is adopted)."""
    result: List[T] = []
    error: List[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            error.append(err)

    thread = threading.Thread(target=run, daemon=True, name="pyko-gocache-read")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise PykoError(f"reading it took longer than {seconds:.0f} s (the registry timeout)")
    if error:
        raise error[0]
    return result[0]


def save_cache(run: Optional[GoCacheRun], registries: Registries, workdir: str, reporter: Reporter,
               signer: Optional[Signer] = None, created: str = "") -> None:
    if run is None or run.settings.cache_to is None:
        return
    ref = run.settings.cache_to
    try:
        repository = Repository(registries(ref.registry), ref.repository)
        line, pushed = go_cache.save(repository, ref.identifier, run.root, run.go_version, run.pulled,
                                     os.path.join(workdir, "gocache-save"),
                                     same_repository=run.settings.cache_from is not None
                                     and run.settings.cache_from.name == ref.name)
        reporter.info(line)
    except PykoError as err:
        reporter.info(f"warning: go cache not saved to {ref}: {err}")
        return
    if pushed is not None:
        _sign_saved(run, ref, pushed, registries, reporter, signer, created)


def _sign_saved(run: GoCacheRun, ref: Reference, pushed: Descriptor, registries: Registries, reporter: Reporter,
                signer: Optional[Signer], created: str) -> None:
    """Sign the cache manifest just pushed (a bundle referrer), so readers can verify who wrote it;
    never a cache that holds entries read unverified (that would vouch for them)."""
    from ..supplychain.sign import sign_digest
    from ..transport.attachment_stores import RegistryAttachments

    why_not = ""
    if signer is None:
        why_not = "the build is not signed (--sign-key or --sign-keyless signs its cache too)"
    elif run.source is not None and not run.source.verified:
        why_not = "it holds entries read from an unverified cache (--cache-trust=none)"
    if why_not:
        reporter.info(f"warning: go cache saved unsigned: {why_not}; a reader with a cache policy will not use it")
        return
    if signer is None:   # never: why_not says so above
        return
    try:
        sign_digest(RegistryAttachments(registries(ref.registry), ref.repository), pushed, ref.name, signer,
                    form="bundle", created=created)
    except PykoError as err:
        reporter.info(f"warning: go cache saved unsigned ({err}); a reader with a cache policy will not use it")
        return
    reporter.info(f"signed the go cache {ref.name}@{pushed.digest[:19]}… as {signer.description}")
