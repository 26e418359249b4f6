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

import dataclasses
import hashlib
import os
import posixpath
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Sequence, Tuple

from ..errors import UsageError
from ..image.app import ImageSettings
from ..platforms import Platform
from ..reference import (
    Reference,
    check_image_name,
    check_tag,
    registry_of,
    repository_under,
    sanitized_name,
    shown_tag,
)
from ..supplychain import policy as base_policy
from ..supplychain.attestations import format_or_default
from ..supplychain.policy import BasePolicy
from ..supplychain.signers import SignerRequest
from ..toolchains import Source, ToolchainSettings, with_build_env
from ..toolchains.go_modules import import_path_of
from ..util.templates import expand
from ..util.timestamps import source_date_epoch
from . import arguments, environment
from .caches import GoCacheSettings, go_cache_settings
from .config import BuildConfig, Config, ImageMetadata
from .environment import cache_dir
from .metadata import resolve_image

DEFAULT_TAGS = ("latest",)
#: Repositories that mean "load into the local engine", as ko's ko.local does.
LOCAL_REPOS = ("pyko.local", "ko.local")


@dataclass(frozen=True)
class Flags:
    """What the command line said; empty or None means "not given"."""

    paths: Tuple[str, ...] = ()
    platforms: Tuple[str, ...] = ()
    base: str = ""
    tags: Tuple[str, ...] = ()
    image: ImageMetadata = field(default_factory=ImageMetadata)   # the most specific level
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
    preserve_import_paths: bool = False         # -P: <repo>/<full import path>
    base_import_paths: bool = False             # -B: <repo>/<last element> (pyko's own default)
    push: bool = True
    push_by_digest: bool = False                # push, move no tag
    tag_only: bool = False
    local: bool = False                         # -L: load into a local engine
    local_engine: str = ""
    insecure_registry: bool = False
    registry_ca_file: str = ""
    registry_timeout: float = 0
    sbom: str = "spdx"
    sbom_dir: str = ""
    sbom_partial: bool = False                  # an incomplete SBOM is accepted (marked) instead of an error
    sign_key: str = ""
    sign_keyless: bool = False                  # a Fulcio certificate for the CI's OIDC identity
    identity_token: str = ""                    # --identity-token: the token, or a file holding it
    trust_config: str = ""                      # --trust-config: a Sigstore instance's client trust config
    sign_recursive: bool = False
    sign_annotations: Tuple[Tuple[str, str], ...] = ()
    attest: Optional[bool] = None               # None: attest whenever signing
    signature_format: str = ""                  # legacy (default) or bundle
    base_policy: Mapping[str, str] = field(default_factory=dict)   # --base-key, --base-certificate-…, --base-policy
    trusted_root: str = ""                      # --trusted-root
    ldflags: Tuple[str, ...] = ()               # --ldflags: replace the config's (as in ko)
    disable_optimizations: bool = False         # -gcflags all=-N -l
    debug: bool = False                         # ko's --debug (Delve): refused
    kubernetes: bool = False                    # resolve/apply/create: Entrypoint by default
    ko_references: bool = False                 # ... and the YAML names an image with ko://
    cache_from: str = ""                        # Go's build cache: read from this registry tag
    cache_to: str = ""                          # ... and saved to this one after a successful build
    cache_policy: Mapping[str, str] = field(default_factory=dict)  # --cache-key, --cache-certificate-…
    cache_trust: str = ""                       # --cache-trust=none: read a cache nobody verified
    compression_compat: bool = False            # --compression-compat: the runtime's zlib, not the pinned zlib-ng


@dataclass(frozen=True)
class Program:
    """One binary of an image: a Go main package or a Rust crate (and which of its binaries)."""

    path: str
    bin: str = ""


@dataclass(frozen=True)
class ResolvedBuild:
    """One image to make: where its binary comes from, what it is built on, where it goes."""

    name: str                                   # the image name; "" lets the toolchain name it
    path: str                                   # the source directory ("" for bare prebuilt files)
    base: str                                   # base image reference, or pyko://static
    platforms: Tuple[str, ...]                  # as asked ("all" allowed); checked against the base
    toolchain: ToolchainSettings = field(default_factory=ToolchainSettings)
    image: ImageSettings = field(default_factory=ImageSettings)
    tags: Tuple[str, ...] = DEFAULT_TAGS        # templates expanded
    binaries: Mapping[Platform, str] = field(default_factory=dict)   # prebuilt: platform -> file
    repo: str = ""                              # the repository it is pushed under ("" when none)
    bare: bool = False                          # pushed to `repo` itself
    preserve_import_paths: bool = False
    ko_names: bool = False                      # ko's default names: <last element>-<md5 of the import path>
    programs: Tuple[Program, ...] = ()          # several binaries in one image ([[builds]] mains/bins)
    command: str = ""                           # with several: the binary that is the image's Cmd
    base_policy: Optional[BasePolicy] = None    # who the base must be signed by, checked before compiling

    @property
    def prebuilt(self) -> bool:
        return bool(self.binaries)

    def sources(self) -> Tuple[Source, ...]:
        """What the toolchains build, one Source per binary: this build's, or (with several
        programs) one per program, each named by its toolchain; the image's name stays this build's."""
        if len(self.programs) <= 1:
            return (Source(self.path, self.name, self.toolchain, self.binaries),)
        return tuple(Source(p.path, "", dataclasses.replace(self.toolchain, bin=p.bin)) for p in self.programs)

    def image_name(self, default: str, import_path: str = "") -> str:
        """The name: as given, else the toolchain's (`default`, or the import path with -P)."""
        if self.name:
            return self.name
        if self.preserve_import_paths and import_path:
            return check_image_name(sanitized_name(import_path), "the image name", path=True)
        if self.ko_names and import_path:
            return check_image_name(ko_name(import_path), "the image name")
        return check_image_name(sanitized_name(default), "the image name")

    def target_for(self, name: str) -> Optional[Reference]:
        """The repository the image named `name` goes to, when there is one."""
        return repository_under(self.repo, name, self.bare) if self.repo else None


def ko_name(import_path: str) -> str:
    """ko's default image name (its packageWithMD5 namer): the import path's last element, a dash,
    and the MD5 of the whole import path, so two packages named `server` do not collide."""
    digest = hashlib.md5(import_path.encode(), usedforsecurity=False).hexdigest()
    return sanitized_name(f"{posixpath.basename(import_path)}-{digest}")


@dataclass(frozen=True)
class RegistrySettings:
    insecure: bool = False
    ca_file: str = ""
    timeout: float = environment.DEFAULT_REGISTRY_TIMEOUT   # seconds of retrying one operation
    retries: int = environment.DEFAULT_REGISTRY_RETRIES     # attempts after the first
    backoff: float = environment.DEFAULT_REGISTRY_BACKOFF   # seconds, doubled each attempt
    pool: int = 16                              # HTTP connections per registry
    cache_dir: str = ""                         # where a combined CA bundle is kept


@dataclass(frozen=True)
class OutputSettings:
    oci_layout: str = ""
    tarball: str = ""
    push: bool = False                          # a registry receives the images
    push_by_digest: bool = False                # ... but no tag is moved
    tag_only: bool = False                      # the reference printed is repo:TAG
    local_engine: str = ""                      # "docker", "podman" or "auto": load into it; "" does not
    local_platform: Optional[Platform] = None   # ... a one-platform store gets it (ko's); None: this machine's
    sboms: bool = True                          # made when something receives them
    sbom_dir: str = ""
    sbom_partial: bool = False                  # an SBOM that cannot be complete is marked, not an error
    registry_hosts: Tuple[str, ...] = ()        # the registries pushed to, reached before compiling
    tags: Tuple[str, ...] = DEFAULT_TAGS        # `pyko base` only; builds carry their own


@dataclass(frozen=True)
class SigningSettings:
    signer: SignerRequest = field(default_factory=SignerRequest)   # a key, keyless, or nothing
    recursive: bool = False
    annotations: Tuple[Tuple[str, str], ...] = ()
    attest: bool = False                        # SBOM and provenance attestations, signed the same way
    form: str = "legacy"                        # legacy (.sig/.att tags) or bundle (cosign v3's referrers)

    @property
    def wanted(self) -> bool:
        return self.signer.wanted


@dataclass(frozen=True)
class Plan:
    builds: Tuple[ResolvedBuild, ...]
    outputs: OutputSettings
    registry: RegistrySettings
    signing: SigningSettings
    jobs: int
    cache_dir: str
    epoch: int                                  # SOURCE_DATE_EPOCH, or 0
    environ: Mapping[str, str]
    kodata_root: str = ""                       # where kodata links may point besides the package
    sigstore_offline: bool = False              # never refresh Sigstore's trusted root
    warnings: Tuple[str, ...] = ()              # for the user before building: config keys that do nothing
    go_cache: GoCacheSettings = field(default_factory=GoCacheSettings)
    compression: str = "pinned"                 # "pinned" (zlib-ng, the same bytes anywhere) or "compat"
    ko_mode: bool = False                       # a ko user's run: ko's defaults (see ko_mode)


def default_jobs(jobs: Optional[int]) -> int:
    return jobs or os.cpu_count() or 1


def repository_from(flags: Flags, environ: Mapping[str, str]) -> str:
    return flags.repo or environment.docker_repo(environ)


def check_yaml_flags(json_lines: bool, repo: str, local: bool, environ: Mapping[str, str]) -> None:
    """resolve, apply and create: before any YAML is read, the flags that cannot make YAML a cluster uses."""
    if json_lines:
        raise UsageError("--json is for `pyko build`; resolve writes YAML")
    if not (repository_from(Flags(repo=repo), environ) or local):
        raise UsageError("the YAML needs references a cluster can pull: set --repo or PYKO_DOCKER_REPO "
                         "(or --local for a local engine)")


def _host(repo: str) -> str:
    return repo.split("/", 1)[0]


def _is_local(repo: str) -> bool:
    return _host(repo) in LOCAL_REPOS


def ko_mode(flags: Flags, config: Config, environ: Mapping[str, str]) -> bool:
    """Whether the run is a ko user's, so ko's defaults apply (names, -L's ko.local, Entrypoint, printed
    references, kodata): PYKO_KO_MODE when set; else a project with a pyko config and no .ko.yaml is
    pyko's own; else a .ko.yaml, a KO_* variable, an import-path or ko:// argument, or a ko:// in
    resolve's YAML make it ko's."""
    setting = environment.ko_mode_setting(environ)
    if setting is not None:
        return setting
    if config.source and not config.ko_source:
        return False
    return bool(config.ko_source) or environment.uses_ko_variables(environ) or flags.ko_references or \
        any(arguments.names_like_ko(p) for p in flags.paths)


def resolve(flags: Flags, config: Config, environ: Mapping[str, str]) -> Plan:
    """The whole plan, or one UsageError naming the first thing that cannot work."""
    environ = dict(environ)
    repo = repository_from(flags, environ)
    ko = ko_mode(flags, config, environ)
    local = flags.local or _is_local(repo)
    if local and not _is_local(repo):
        # --local loads into the engine: pyko names the images pyko.local/<name>; ko names them under
        # KO_DOCKER_REPO when it is set, else ko.local.
        repo = (repo or "ko.local") if ko else "pyko.local"
    if flags.debug:
        raise UsageError("--debug (ko's Delve debugger inside the image) is not supported: build with "
                         "--disable-optimizations and attach a debugger from outside the container")
    entries = _entries(flags, config, environ)
    _check_combinations(flags, repo, local, len(entries))
    epoch = source_date_epoch(environ)
    builds = tuple(_build(flags, config, path, entry, binaries, repo, environ, epoch, ko)
                   for path, entry, binaries in entries)
    outputs = _outputs(flags, repo, local, builds, environ, ko)
    signing = _signing(flags, config)
    if local and signing.wanted:
        raise UsageError(f"{_signing_flag(signing)} signs what is pushed or written to --oci-layout, "
                         "not what --local loads")
    if signing.wanted and not (outputs.push or flags.oci_layout):
        raise UsageError(f"{_signing_flag(signing)} signs what is pushed or written to --oci-layout: "
                         "give a repo or a layout")
    return Plan(
        builds=builds,
        outputs=outputs,
        registry=registry_settings(flags.insecure_registry, flags.registry_ca_file, flags.registry_timeout, environ,
                                   flags.jobs),
        signing=signing,
        jobs=default_jobs(flags.jobs),
        cache_dir=cache_dir(environ),
        epoch=epoch,
        environ=environ,
        kodata_root=environment.kodata_root(environ),
        sigstore_offline=environment.sigstore_offline(environ),
        warnings=config.warnings + arguments.unmatched(config, environ) + _nowhere(outputs, flags),
        go_cache=go_cache_settings(flags.cache_from, flags.cache_to, config.cache_from, config.cache_to,
                                   _cache_policy(flags, config), flags.cache_trust or config.cache_trust),
        compression="compat" if flags.compression_compat else "pinned",
        ko_mode=ko,
    )


def _nowhere(outputs: OutputSettings, flags: Flags) -> Tuple[str, ...]:
    """A build that writes nothing says so before it starts (ko refuses one; pyko builds it, which
    checks that it compiles, but never lets it look like a push)."""
    if outputs.push or outputs.oci_layout or outputs.tarball or outputs.local_engine:
        return ()
    why = "--push=false" if not flags.push else "no destination"
    message = (f"{why}: the images are built but written nowhere; give --repo REGISTRY/REPO (or set "
               "KO_DOCKER_REPO), --oci-layout DIR, --tarball FILE or --local to keep them")
    return (message,)


def _check_combinations(flags: Flags, repo: str, local: bool, images: int) -> None:
    if _host(repo) == "kind.local":
        # ko's kind publisher imports into a kind cluster's nodes; pyko has no such publisher, and
        # "kind.local" is no registry host, so say so before anything is built.
        raise UsageError("kind.local (ko's publisher into a kind cluster) is not supported: build with -L and "
                         "KO_DOCKER_REPO unset, then `kind load docker-image ko.local/NAME`, or push to a registry "
                         "the cluster can pull from")
    if flags.tarball and images > 1:
        raise UsageError("--tarball holds one image: build one path at a time, or use --oci-layout")
    if flags.bare and not repo:
        raise UsageError("--bare pushes to the repository itself: set --repo or PYKO_DOCKER_REPO")
    if flags.bare and images > 1:
        raise UsageError("--bare names one image: build one PATH at a time")
    if flags.tag_only and flags.push_by_digest:
        raise UsageError("--tag-only prints repo:TAG and --push-by-digest moves no tag: choose one")
    if flags.tag_only and not shown_tag(flags.tags):
        raise UsageError("--tag-only needs exactly one -t TAG, and not latest (as in ko)")
    if local and flags.push_by_digest:
        raise UsageError("--push-by-digest pushes to a registry: it cannot go with --local")


def signer_request(key: str, keyless: bool, identity_token: str, trust_config: str, form: str) -> SignerRequest:
    """A key or keyless, never both; the keyless flags only with keyless signing."""
    if key and keyless:
        raise UsageError("--sign-key and --sign-keyless both given: sign with the key or keylessly, not both")
    if (identity_token or trust_config) and not keyless:
        given = "--identity-token" if identity_token else "--trust-config"
        how = "not with a key" if key else "add --sign-keyless (or sign = \"keyless\" in the config)"
        raise UsageError(f"{given} is for keyless signing: {how}")
    return SignerRequest(key=key, keyless=keyless, identity_token=identity_token, trust_config=trust_config,
                         legacy=form == "legacy")


def _signing(flags: Flags, config: Config) -> SigningSettings:
    keyless = flags.sign_keyless or (config.sign == "keyless" and not flags.sign_key)
    form = format_or_default(flags.signature_format)
    request = signer_request(flags.sign_key, keyless, flags.identity_token, flags.trust_config or config.trust_config,
                             form)
    if flags.attest and not request.wanted:
        raise UsageError("--attest signs attestations: give --sign-key or --sign-keyless too")
    attest = request.wanted if flags.attest is None else flags.attest
    if attest and flags.sbom == "none":
        raise UsageError("attestations hold the SBOM: with --sbom=none, add --no-attest")
    return SigningSettings(request, flags.sign_recursive, flags.sign_annotations, attest, form)


def _signing_flag(signing: SigningSettings) -> str:
    return "--sign-key" if signing.signer.key else "--sign-keyless"


def registry_settings(insecure: bool, ca_file: str, timeout: Optional[float], environ: Mapping[str, str],
                      jobs: Optional[int] = None) -> RegistrySettings:
    """How registries are reached: the flags, with limits from the environment."""
    return RegistrySettings(insecure, ca_file or "", environment.registry_timeout(timeout or 0, environ),
                            environment.registry_retries(environ), environment.registry_backoff(environ),
                            pool=max(8, default_jobs(jobs) + 4), cache_dir=cache_dir(environ))


def _outputs(flags: Flags, repo: str, local: bool, builds: Sequence[ResolvedBuild],
             environ: Mapping[str, str], ko: bool = False) -> OutputSettings:
    push = bool(repo and flags.push and not local)
    hosts = [registry_of(repo)] if push else []
    return OutputSettings(oci_layout=flags.oci_layout, tarball=flags.tarball, push=push,
                          push_by_digest=flags.push_by_digest, tag_only=flags.tag_only,
                          local_engine=environment.local_engine(flags.local_engine, environ) if local else "",
                          # ko's -L loads $GOOS/$GOARCH (else linux/amd64) out of several platforms
                          local_platform=Platform.parse(environment.ko_default_platform(environ))
                          if local and ko else None,
                          sboms=flags.sbom != "none", sbom_dir=flags.sbom_dir, sbom_partial=flags.sbom_partial,
                          registry_hosts=tuple(hosts))


def _entries(flags: Flags, config: Config, environ: Mapping[str, str]) -> List[arguments.Entry]:
    """(path, [[builds]] entry, prebuilt files) for each image: the --binary files, or what the
    arguments name (arguments.entries)."""
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
    return arguments.entries(flags.paths, config, environ)


def _toolchain(flags: Flags, config: Config, entry: BuildConfig, effective: BuildConfig) -> ToolchainSettings:
    """ko's rule: --ldflags, else the entry's, else the defaults (`effective`, and so for env and flags)."""
    extra = ("-gcflags", "all=-N -l") if flags.disable_optimizations else ()
    return ToolchainSettings(env=effective.env, flags=effective.flags + extra,
                             ldflags=flags.ldflags or effective.ldflags, bin=flags.bin or entry.bin,
                             rust_libc=flags.rust_libc or config.rust_libc,
                             rust_builder=flags.rust_builder or config.rust_builder)


def _default_platform(environ: Mapping[str, str], ko: bool) -> str:
    """This machine's platform; for a ko user, ko's ($GOOS/$GOARCH, else linux/amd64), so that moving
    from ko does not change what an arm64 laptop or runner builds."""
    return environment.ko_default_platform(environ) if ko else str(Platform.host())


def _build(flags: Flags, config: Config, path: str, entry: BuildConfig, binaries: Mapping[str, str],
           repo: str, environ: Mapping[str, str], epoch: int, ko: bool = False) -> ResolvedBuild:
    effective = config.effective(entry)
    name = flags.name or entry.name
    if name:
        check_image_name(name, "--name" if flags.name else "the image name")
    source_dir = path if path and os.path.isdir(path) else ""
    files = {Platform.parse(p): f for p, f in binaries.items()}
    # Templates in tags, labels, annotations and env see what {{.Env.X}} in ldflags sees.
    template_env = with_build_env(environ, effective.env, path or ".")
    tags = tuple(check_tag(t) for t in expand(flags.tags or DEFAULT_TAGS, template_env, source_dir or ".", epoch))
    import_path = import_path_of(source_dir) if source_dir else ""
    base = flags.base or config.base_for(path, entry, import_path)
    return ResolvedBuild(
        name=name,
        path=source_dir,
        base=base,
        platforms=tuple(binaries) if binaries else (flags.platforms or config.default_platforms
                                                    or (_default_platform(environ, ko),)),
        toolchain=_toolchain(flags, config, entry, effective),
        image=resolve_image(flags.image, config.image, entry.image, source_dir, template_env, epoch,
                            entrypoint_default=flags.kubernetes or ko),
        tags=tuple(dict.fromkeys(tags)),
        binaries=files,
        repo=repo,
        bare=flags.bare,
        preserve_import_paths=flags.preserve_import_paths,
        ko_names=ko and not (flags.bare or flags.preserve_import_paths or flags.base_import_paths),
        programs=() if binaries else _programs(config, entry),
        command=entry.cmd,
        base_policy=_base_policy(flags, config, path, entry, base, import_path),
    )


def _base_policy(flags: Flags, config: Config, path: str, entry: BuildConfig, base: str,
                 import_path: str) -> Optional[BasePolicy]:
    """The command line's policy, else the config's for this base; --trusted-root applies to either."""
    policy = base_policy.from_flags(flags.base_policy) or config.policy_for(path, entry, base, import_path)
    if policy is not None and flags.trusted_root:
        policy = dataclasses.replace(policy, trusted_root=flags.trusted_root)
    return policy


def _cache_policy(flags: Flags, config: Config) -> Optional[BasePolicy]:
    """Who may have written the Go cache that is read: the command line's, else the config's
    cachePolicy; --trusted-root applies to either, as for bases."""
    policy = base_policy.from_flags(flags.cache_policy) or config.cache_policy
    if policy is not None and flags.trusted_root:
        policy = dataclasses.replace(policy, trusted_root=flags.trusted_root)
    return policy


def _programs(config: Config, entry: BuildConfig) -> Tuple[Program, ...]:
    """The binaries of a [[builds]] entry with `mains` or `bins`; () for one program."""
    if not (entry.mains or entry.bins):
        return ()
    paths = entry.main_paths(config.root)
    if entry.bins and len(paths) > 1:
        raise UsageError("bins names binaries of one crate: with several mains, give each crate its own entry")
    for path in paths:
        if not os.path.isdir(path):
            raise UsageError(f"[[builds]] mains: {path} is not a directory")
    if entry.bins:
        return tuple(Program(paths[0], b) for b in entry.bins)
    return tuple(Program(path) for path in paths)


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
    push = bool(repo and flags.push)
    target = repository_under(repo, "static", bare=True) if push else None
    outputs = OutputSettings(oci_layout=flags.oci_layout, tarball=flags.tarball, push=push, sboms=False,
                             registry_hosts=(target.registry,) if target else (),
                             tags=tuple(check_tag(t) for t in (flags.tags or DEFAULT_TAGS)))
    registry = registry_settings(flags.insecure_registry, flags.registry_ca_file, flags.registry_timeout, environ,
                                 flags.jobs)
    return BasePlan(platforms=flags.platforms or ("all",), outputs=outputs, registry=registry,
                    target=target, jobs=default_jobs(flags.jobs), cache_dir=cache_dir(environ),
                    environ=dict(environ))
