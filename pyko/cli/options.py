"""Flags shared by several commands, each group defined once."""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar, cast

import click

if TYPE_CHECKING:
    from ..supplychain.sign import Signing
    from ..supplychain.signers import SignerRequest
    from ..transport.registry.hosts import Registries
    from ..util.progress import Reporter

#: A click command's function, before and after its options are added.
F = TypeVar("F", bound=Callable[..., Any])
#: What click.option(...) returns: a decorator adding one option (click types it per function).
Decorator = Callable[[Any], Any]

#: -v anywhere: before the command (`pyko -v build`) or after it, as ko's global flag (`ko build -v`).
VERBOSE = {"on": False}


def _set_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        VERBOSE["on"] = True
    return value


verbose_option = click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=_set_verbose,
                              is_eager=True, help="Show tracebacks and toolchain commands.")


#: The headings `build --help` (and resolve, apply, create) groups its options under, in order,
#: and which options go under each; an option named nowhere goes under the last.
SECTIONS = (
    ("Where the images go", ("repo", "bare", "push", "oci_layout", "tarball", "local", "local_engine", "tags",
                             "tag_only", "push_by_digest", "image_refs", "image_refs_attachments", "as_json")),
    ("What is built", ("binaries", "platforms", "name", "preserve_import_paths", "base_import_paths", "jobs",
                       "ldflags", "disable_optimizations", "bin", "rust_libc", "rust_builder", "compression_compat")),
    ("The base", ("base", "base_preset", "base_key", "base_certificate_identity",
                  "base_certificate_identity_regexp", "base_certificate_oidc_issuer",
                  "base_certificate_oidc_issuer_regexp", "trusted_root")),
    ("The image", ("user", "entrypoint", "labels", "annotations", "image_env", "workdir", "exposed", "cmd_args")),
    ("Signing, SBOMs, provenance", ("sign_key", "sign_keyless", "identity_token", "trust_config", "sign_recursive",
                                    "sign_annotations", "attest", "signature_format", "sbom", "sbom_dir",
                                    "sbom_partial")),
    ("Go's build cache in a registry", ("cache_from", "cache_to", "cache_key", "cache_certificate_identity",
                                        "cache_certificate_identity_regexp", "cache_certificate_oidc_issuer",
                                        "cache_certificate_oidc_issuer_regexp", "cache_trust")),
    ("Registries", ("insecure_registry", "registry_ca_file", "registry_timeout")),
    ("Other options", ()),
)


class SectionedCommand(click.Command):
    """A command whose --help lists its options under SECTIONS' headings instead of one long list."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        place = {name: (n, k) for n, (_, names) in enumerate(SECTIONS) for k, name in enumerate(names)}
        last = len(SECTIONS) - 1
        grouped: Dict[int, List[Tuple[int, Tuple[str, str]]]] = {}
        for order, param in enumerate(self.get_params(ctx)):
            record = param.get_help_record(ctx)
            if record is not None:
                section, position = place.get(param.name or "", (last, len(place) + order))
                grouped.setdefault(section, []).append((position, record))
        for section, (heading, _) in enumerate(SECTIONS):
            if grouped.get(section):
                with formatter.section(heading):
                    formatter.write_dl([record for _, record in sorted(grouped[section], key=lambda r: r[0])])


def apply_options(func: F, options: Sequence[Decorator]) -> F:
    decorated: object = func
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, decorated)   # click's decorators return the function they were given, with params attached


def registry_options(func: F) -> F:
    """Flags of every command that talks to a registry."""
    return apply_options(func, [
        click.option("--insecure-registry", is_flag=True,
                     help="Allow plain HTTP and unverified TLS (loopback registries need no flag)."),
        click.option("--registry-ca-file", default="", type=click.Path(),
                     help="An extra CA bundle to trust for registries."),
        click.option("--registry-timeout", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
                     help="Give up retrying one registry operation after this long "
                          "(default: $PYKO_REGISTRY_TIMEOUT, else 300)."),
    ])


def registries_from_flags(insecure_registry: bool, registry_ca_file: str, registry_timeout: Optional[float],
                          environ: Mapping[str, str], reporter: Optional[Reporter] = None) -> Registries:
    """The registry clients of a command that took `registry_options` (and no build plan)."""
    from ..commands.registries import registries_for
    from ..plan.resolve import registry_settings

    return registries_for(registry_settings(insecure_registry, registry_ca_file, registry_timeout, environ),
                          environ, reporter)


def policy_options(prefix: str, what: str, when: str) -> List[Decorator]:
    """--PREFIX-key and --PREFIX-certificate-identity[-regexp] / -oidc-issuer[-regexp]: who must
    have signed `what` (cosign's verify flags, with the config's policy keys behind them)."""
    return [
        click.option(f"--{prefix}-key", default="", type=click.Path(),
                     help=f"Verify {what} with this public key (cosign.pub) {when}."),
        click.option(f"--{prefix}-certificate-identity", default="",
                     help=f"Verify {what} keyless: the signer's identity (exactly)."),
        click.option(f"--{prefix}-certificate-identity-regexp", default="",
                     help="... or a regular expression the identity must match."),
        click.option(f"--{prefix}-certificate-oidc-issuer", default="",
                     help="The signer's OIDC issuer (exactly), e.g. https://token.actions.githubusercontent.com."),
        click.option(f"--{prefix}-certificate-oidc-issuer-regexp", default="",
                     help="... or a regular expression the issuer must match."),
    ]


def keyless_options() -> List[Decorator]:
    """Where keyless signing gets its identity and which Sigstore it uses (cosign's flag names)."""
    return [
        click.option("--identity-token", default="", metavar="TOKEN|FILE",
                     help="Keyless: the OIDC token, or a file holding it (default: $SIGSTORE_ID_TOKEN, else the "
                          "CI's own: GitHub Actions, GitLab, Buildkite, CircleCI, Google)."),
        click.option("--trust-config", default="", type=click.Path(),
                     help="Keyless: the Sigstore instance, as sigstore-python's client trust config (a trusted "
                          "root and a signing config; default: the public-good Sigstore)."),
    ]


def signing_options(func: F) -> F:
    """How `index create` and `rebase` sign what they write: as `pyko build` does."""
    return apply_options(func, [
        click.option("--sign-key", default="", type=click.Path(), help="Sign the result with this key (cosign.key)."),
        click.option("--sign-keyless", is_flag=True,
                     help="Sign the result keylessly (the CI's OIDC identity, Fulcio and Rekor)."),
        *keyless_options(),
        click.option("--signature-format", type=click.Choice(["legacy", "bundle"]), default="legacy",
                     show_default=True, help="legacy: cosign's .sig tag; bundle: a Sigstore bundle referrer."),
    ])


def signer_request_from(options: Mapping[str, Any], key: str = "", keyless: bool = False) -> SignerRequest:
    """The SignerRequest of a command's signing flags (a key or keyless, never both)."""
    from ..plan.resolve import signer_request

    return signer_request(key or options.get("sign_key", ""), keyless or options.get("sign_keyless", False),
                          options.get("identity_token", ""), options.get("trust_config", ""),
                          options.get("signature_format") or "legacy")


def open_signing_from(options: Mapping[str, Any], environ: Mapping[str, str], key: str = "", keyless: bool = False,
                      recursive: bool = False, annotations: Sequence[Tuple[str, str]] = (),
                      epoch: int = 0) -> Optional[Signing]:
    """The Signing a command's flags ask for, opened now (the key's password, the OIDC token), or None."""
    from ..plan.environment import sigstore_offline
    from ..supplychain.sign import open_signing
    from ..util.timestamps import rfc3339

    return open_signing(signer_request_from(options, key, keyless), environ, sigstore_offline(environ), recursive,
                        tuple(annotations), rfc3339(epoch))


@contextlib.contextmanager
def reporting(quiet: bool, environ: Mapping[str, str]) -> Iterator[Reporter]:
    """The progress reporter of a command, closed however it ends."""
    from ..util.progress import make_reporter

    reporter = make_reporter(quiet, environ)
    try:
        yield reporter
    finally:
        reporter.close()


def push_options(func: F) -> F:
    """Where images are pushed."""
    return apply_options(func, [
        click.option("--repo", default="",
                     help="Repository to push to; images go to <repo>/<name> "
                          "(default: $PYKO_DOCKER_REPO, else $KO_DOCKER_REPO)."),
        click.option("--bare", is_flag=True, help="Push to <repo> itself, not <repo>/<name>."),
        click.option("--push", type=click.BOOL, default=True, metavar="BOOL",
                     help="--push=false builds (and writes files) without pushing."),
    ])


def build_options(func: F, yaml: bool = False) -> F:
    """What is built and how: everything `build`, `resolve`, `apply` and `create` share.
    With `yaml`, -R/--recursive is kubectl's (directories), so signing's is --sign-recursive."""
    sign_recursive = ("--sign-recursive",) if yaml else ("--recursive", "--sign-recursive")
    return apply_options(func, [
        click.option("--platform", "platforms", multiple=True, metavar="OS/ARCH[/VARIANT]",
                     help="Platforms to build, comma-separated or repeated, or 'all' "
                          "(default: defaultPlatforms from the config, else this machine's; "
                          "for a ko user, $GOOS/$GOARCH or linux/amd64, as ko)."),
        click.option("--oci-layout", "--oci-layout-path", "oci_layout", type=click.Path(),
                     help="Add the image to this OCI image layout directory."),
        click.option("--tarball", type=click.Path(), help="Write an archive that `docker load` accepts."),
        click.option("-t", "--tag", "--tags", "tags", multiple=True,
                     help="Tag(s) to give the image, comma-separated or repeated (default: latest); "
                          "templates allowed."),
        click.option("--tag-only", is_flag=True,
                     help="Print repo:TAG instead of the digest reference (exactly one -t, not latest)."),
        click.option("--push-by-digest", is_flag=True,
                     help="Push the image but move no tag (for per-runner builds merged by `pyko index create`)."),
        click.option("--base", default="", help="Base image (default: defaultBaseImage, i.e. pyko://static)."),
        click.option("--base-policy", "base_preset", default="", metavar="PRESET",
                     help="Verify the base's signature as a known publisher signs it: chainguard."),
        *policy_options("base", "the base's signature", "before building"),
        click.option("--trusted-root", default="", type=click.Path(),
                     help="Sigstore trusted root for keyless checks (default: the public-good one)."),
        click.option("--user", "--image-user", "user", default="",
                     help="User the image runs as (default: 65532, nonroot)."),
        click.option("--entrypoint/--cmd", "entrypoint", default=None,
                     help="Run the binary as ENTRYPOINT (ko's way: Kubernetes args: and `docker run IMAGE ARGS` "
                          "are its arguments) or as CMD (replaced by them). Default: CMD for `build`, ENTRYPOINT "
                          "for resolve/apply/create and for projects with a .ko.yaml; the config's `entrypoint`."),
        click.option("--image-label", "labels", multiple=True, metavar="KEY=VALUE[,KEY=VALUE]",
                     help="A label in the image config (comma-separated or repeated; an empty value removes one)."),
        click.option("--image-annotation", "annotations", multiple=True, metavar="KEY=VALUE[,KEY=VALUE]",
                     help="An annotation on every image manifest and the index (comma-separated or repeated; "
                          "an empty value removes one, e.g. org.opencontainers.image.source=)."),
        click.option("--ldflags", "ldflags", multiple=True, metavar="FLAG[,FLAG]",
                     help="Go: -ldflags for every image, instead of the config's (comma-separated or repeated)."),
        click.option("--cache-from", default="", metavar="REPO[:TAG]",
                     help="Go: read Go's build cache from this registry artifact (default tag go-build-cache), "
                          "for fresh CI runners, once its signature verifies; a missing, unsigned or bad cache "
                          "only costs time."),
        click.option("--cache-to", default="", metavar="REPO[:TAG]",
                     help="Go: save the build cache there after a successful build, signed by the build's signer "
                          "(--sign-key or --sign-keyless) so that readers can verify who wrote it."),
        *policy_options("cache", "a --cache-from cache's signature (Go)", "before a single entry is used"),
        click.option("--cache-trust", type=click.Choice(["signed", "none"]), default=None,
                     help="none: read a --cache-from cache nobody verified (the log and the provenance say so); "
                          "signed (the default): only with a cache policy (config: cacheTrust, cachePolicy)."),
        click.option("--compression-compat", is_flag=True,
                     help="gzip layers with this Python's own zlib at level 6 (pyko's layers before 0.2), instead of "
                          "the pinned zlib-ng: digests then depend on the zlib the interpreter links."),
        click.option("--disable-optimizations", is_flag=True,
                     help="Go: compile with -gcflags 'all=-N -l', for a debugger."),
        click.option("--debug", is_flag=True, hidden=True),   # ko's Delve in the image: refused in the plan
        click.option("--image-env", "image_env", multiple=True, metavar="NAME=VALUE",
                     help="An environment variable the image runs with (repeatable)."),
        click.option("--workdir", default=None, help="The image's working directory."),
        click.option("--expose", "exposed", multiple=True, metavar="PORT[/PROTO]",
                     help="A port the image exposes, e.g. 8080 or 53/udp (repeatable)."),
        click.option("--cmd-arg", "cmd_args", multiple=True, metavar="ARG",
                     help="A default argument after the binary (repeatable, in order)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
                     help="Builds to run at once (default: number of CPUs)."),
        click.option("--name", default="", help="Image and binary name (default: the Go import path's last "
                                               "element, or the Rust binary's name)."),
        click.option("-P", "--preserve-import-paths", is_flag=True,
                     help="Go: name the image after its full import path (<repo>/<import path>)."),
        click.option("-B", "--base-import-paths", is_flag=True,
                     help="Go: name the image after the import path's last element (pyko's default; a ko "
                          "user's default is ko's <name>-<md5 of the import path>)."),
        click.option("--bin", "bin", default="", help="Rust: the binary target of a crate with several."),
        click.option("--rust-libc", type=click.Choice(["musl", "gnu"]), default=None,
                     help="Rust: musl targets (default) or static glibc (gnu, with +crt-static)."),
        click.option("--rust-builder", type=click.Choice(["auto", "cargo", "auditable", "zigbuild"]), default=None,
                     help="Rust: `cargo auditable build` when cargo-auditable is installed, else `cargo build` "
                          "(auto, the default); or cargo, auditable, zigbuild (for cross-linking)."),
        click.option("-L", "--local", is_flag=True,
                     help="Load the image into the local Docker or Podman instead of pushing it."),
        click.option("--local-engine", type=click.Choice(["auto", "docker", "podman"]), default=None,
                     help="Which engine --local loads into (default: $PYKO_LOCAL_ENGINE, else auto)."),
        click.option("--sbom", type=click.Choice(["spdx", "none"]), default="spdx", show_default=True,
                     help="SPDX SBOMs, attached to pushed images; none turns them off."),
        click.option("--sbom-dir", default="", type=click.Path(), help="Also write the SBOMs as files here."),
        click.option("--sbom-partial", is_flag=True,
                     help="Accept an SBOM that cannot list what was compiled into a binary (it says so, "
                          "with NOASSERTION) instead of failing the build."),
        click.option("--sign-key", default="", type=click.Path(),
                     help="Sign what is pushed (or written to --oci-layout) with this key (cosign.key)."),
        click.option("--sign-keyless", is_flag=True,
                     help="Sign keylessly, as cosign does without a key: a short-lived Fulcio certificate for the "
                          "CI's OIDC identity, every signature logged in Rekor (config: sign = \"keyless\")."),
        *keyless_options(),
        click.option(*sign_recursive, "sign_recursive", is_flag=True,
                     help="When signing: also sign each platform's manifest."),
        click.option("--sign-annotation", "sign_annotations", multiple=True, metavar="KEY=VALUE",
                     help="Annotation to put in the signature payload (repeatable)."),
        click.option("--attest/--no-attest", "attest", default=None,
                     help="When signing (the default then): also sign the SBOM and SLSA provenance of the "
                          "index and each platform as attestations."),
        click.option("--signature-format", type=click.Choice(["legacy", "bundle"]), default=None,
                     help="legacy: cosign's .sig/.att tags, read by cosign v2 and v3 (default); bundle: Sigstore "
                          "bundles as OCI 1.1 referrers, cosign v3's default."),
        click.option("--image-refs", default="", type=click.Path(),
                     help="Write the references of what was pushed to this file, one per line (ko's format)."),
        click.option("--image-refs-attachments", is_flag=True,
                     help="With --image-refs: also list the SBOMs and signatures stored beside the images."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print one JSON object per image on stdout instead of the references."),
        click.option("-q", "--quiet", is_flag=True, help="No progress or log lines, only errors."),
        verbose_option,
    ])


def yaml_build_options(func: F) -> F:
    return build_options(func, yaml=True)
