"""`pyko build`, and how every building command turns its flags into a Plan and prints results."""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, List, Mapping, Sequence, Tuple

import click

if TYPE_CHECKING:
    from ..commands.build import Built
    from ..plan.resolve import Flags
    from ..supplychain.sign import Stored

from ..plan.environment import process_environment
from .options import SectionedCommand, build_options, push_options, registry_options


def split_binary(value: str) -> Tuple[str, str]:
    platform, sep, path = value.partition("=")
    if not sep or not platform or not path:
        raise click.BadParameter(f"{value!r} must look like linux/amd64=./path/to/binary", param_hint="--binary")
    return platform, path


#: The base policy's flags, and the policy key each one sets (pyko.supplychain.policy's names).
BASE_POLICY_OPTIONS = {"base_preset": "preset", "base_key": "key",
                       "base_certificate_identity": "certificateIdentity",
                       "base_certificate_identity_regexp": "certificateIdentityRegexp",
                       "base_certificate_oidc_issuer": "certificateOidcIssuer",
                       "base_certificate_oidc_issuer_regexp": "certificateOidcIssuerRegexp"}
#: The Go cache's policy flags (--cache-key, --cache-certificate-…), in the config's key names.
CACHE_POLICY_OPTIONS = {f"cache_{option[5:]}": key for option, key in BASE_POLICY_OPTIONS.items()
                        if option != "base_preset"}


#: Options of the building commands that are not plan.Flags fields: what the CLI itself reads (how to
#: print, where to write the references, the YAML to read).
NOT_FLAGS = frozenset({"quiet", "as_json", "image_refs", "image_refs_attachments", "filenames", "recurse",
                       "selector", "kubectl_args"})


class _Given:
    """The keyword arguments of a command, read by name: a name click no longer gives is a KeyError
    (a renamed option fails the unit test that calls flags_from with each command's real options);
    None, click's "not given", becomes the field's own default."""

    def __init__(self, options: Mapping[str, Any]):
        self.options = options

    def text(self, name: str, default: str = "") -> str:
        value = self.options[name]
        return default if value is None else str(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.options[name]
        return default if value is None else bool(value)

    def strings(self, name: str) -> Tuple[str, ...]:
        return tuple(self.options[name] or ())


def flags_from(paths: Sequence[str], options: Mapping[str, Any], kubernetes: bool = False,
               ko_references: bool = False) -> Flags:
    """plan.Flags from the keyword arguments of a command with build_options, each field set here by
    name (tests/unit/cli/test_building.py checks every option is read and every field set)."""
    from ..plan.config import ImageMetadata
    from ..plan.metadata import comma_separated, key_values
    from ..plan.resolve import Flags

    given = _Given(options)
    image = ImageMetadata(   # the command line's level: None where an option was not given
        labels=dict(key_values(comma_separated(options["labels"]), "--image-label")),
        annotations=dict(key_values(comma_separated(options["annotations"]), "--image-annotation")),
        env=dict(key_values(options["image_env"], "--image-env")),
        working_dir=options["workdir"], exposed_ports=given.strings("exposed") or None,
        args=given.strings("cmd_args") or None, user=options["user"] or None, entrypoint=options["entrypoint"],
    )
    return Flags(
        paths=tuple(paths), platforms=given.strings("platforms"), base=given.text("base"),
        tags=comma_separated(options["tags"]), image=image, jobs=options["jobs"],
        oci_layout=given.text("oci_layout"), tarball=given.text("tarball"),
        binaries=tuple(split_binary(b) for b in options.get("binaries", ())),   # build's --binary only
        name=given.text("name"), bin=given.text("bin"), rust_libc=given.text("rust_libc"),
        rust_builder=given.text("rust_builder"),
        repo=given.text("repo"), bare=given.flag("bare"), preserve_import_paths=given.flag("preserve_import_paths"),
        base_import_paths=given.flag("base_import_paths"),
        push=given.flag("push", True), push_by_digest=given.flag("push_by_digest"), tag_only=given.flag("tag_only"),
        local=given.flag("local"), local_engine=given.text("local_engine"),
        insecure_registry=given.flag("insecure_registry"), registry_ca_file=given.text("registry_ca_file"),
        registry_timeout=options["registry_timeout"] or 0,
        sbom=given.text("sbom", "spdx"), sbom_dir=given.text("sbom_dir"), sbom_partial=given.flag("sbom_partial"),
        sign_key=given.text("sign_key"), sign_keyless=given.flag("sign_keyless"),
        identity_token=given.text("identity_token"), trust_config=given.text("trust_config"),
        sign_recursive=given.flag("sign_recursive"),
        sign_annotations=key_values(options["sign_annotations"], "--sign-annotation"),
        attest=options["attest"], signature_format=given.text("signature_format"),
        base_policy={key: options[option] for option, key in BASE_POLICY_OPTIONS.items()},
        trusted_root=given.text("trusted_root"), ldflags=comma_separated(options["ldflags"]),
        disable_optimizations=given.flag("disable_optimizations"), debug=given.flag("debug"),
        kubernetes=kubernetes, ko_references=ko_references,
        cache_from=given.text("cache_from"), cache_to=given.text("cache_to"),
        cache_policy={key: options[option] for option, key in CACHE_POLICY_OPTIONS.items()},
        cache_trust=given.text("cache_trust"), compression_compat=given.flag("compression_compat"),
    )


def run_build(paths: Sequence[str], options: Mapping[str, Any], kubernetes: bool = False,
              ko_references: bool = False) -> List[Built]:
    """Resolve the plan, build, write --image-refs; returns the Built images. `kubernetes`: for
    YAML (resolve, apply, create), where a pod's args: must reach the binary (Entrypoint);
    `ko_references`: that YAML names an image with ko://."""
    from ..commands.build import build
    from ..plan.loading import load_config
    from ..plan.resolve import resolve
    from ..util.atomic import check_directory_writable
    from ..util.progress import make_reporter

    environ = process_environment()
    plan = resolve(flags_from(paths, options, kubernetes, ko_references), load_config(os.getcwd(), environ),
                   environ)
    for warning in plan.warnings:
        click.echo(f"pyko: warning: {warning}", err=True)
    refs_file = options.get("image_refs") or ""
    if refs_file:  # checked before compiling, written after: never half of a run's references
        check_directory_writable(os.path.dirname(os.path.abspath(refs_file)), f"--image-refs {refs_file}")
    reporter = make_reporter(options["quiet"], environ)
    try:
        results = build(plan, reporter)
    finally:
        reporter.close()
    if refs_file:
        write_image_refs(refs_file, results, options.get("image_refs_attachments", False))
    return results


def write_image_refs(path: str, results: Sequence[Built], attachments: bool) -> None:
    from ..util.atomic import write_bytes

    lines: List[str] = []
    for built in results:
        lines += image_refs(built, attachments)
    write_bytes(path, "".join(line + "\n" for line in lines).encode())


def image_refs(built: Built, attachments: bool = False) -> List[str]:
    """ko's --image-refs lines for one image: the index, then each platform's manifest (the image
    alone, when it is written alone); then, if asked, each attachment as
    <repo>:<cosign tag>@<its manifest digest>."""
    if built.tag_only:
        return [built.reference]
    tag = f":{built.one_tag}" if built.one_tag else ""
    lines = [f"{built.name}{tag}@{built.top.digest}"]
    if not built.alone:
        lines += [f"{built.name}{tag}@{image.digest}" for image in built.index.images]
    if attachments:
        lines += [_attachment_ref(built.name, item) for item in built.attachments]
    return lines


def _attachment_ref(name: str, item: Stored) -> str:
    """cosign's tag, pinned (repo:sha256-<hex>.sbom@sha256:…), or for a referrer its digest alone."""
    return f"{name}:{item.tag}@{item.digest}" if item.tag else f"{name}@{item.digest}"


def as_json(built: Built) -> str:
    return json.dumps({
        "name": built.name,
        "reference": built.reference,
        "digest": built.top.digest,
        "tags": list(built.tags),
        "platforms": [{"platform": str(image.platform), "digest": image.digest} for image in built.index.images],
        "sboms": [_attachment_ref(built.name, a) for a in built.attachments if a.kind == "sbom"],
        "signatures": [_attachment_ref(built.name, a) for a in built.attachments if a.kind == "signature"],
        "attestations": [_attachment_ref(built.name, a) for a in built.attachments
                         if a.kind == "attestation"],
        "signedBy": built.signed_by,
        "outputs": [{"kind": output.kind, "location": output.location} for output in built.outputs],
    }, sort_keys=False)


def print_results(results: Sequence[Built], json_lines: bool) -> None:
    for built in results:
        click.echo(as_json(built) if json_lines else built.reference)


@click.command(cls=SectionedCommand)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--binary", "binaries", multiple=True, metavar="OS/ARCH[/VARIANT]=FILE",
              help="Pack a prebuilt static binary for a platform (repeat per platform; needs --name).")
@build_options
@push_options
@registry_options
def build(paths: Tuple[str, ...], **options: Any) -> None:
    """Build PATHS (Go main packages or Rust crates) into images and print their digest references.

    \b
    Examples:
      pyko build ./cmd/app --repo ghcr.io/acme                push; prints ghcr.io/acme/app@sha256:...
      pyko build ./cmd/app --platform all --oci-layout out/    all 8 platforms into a local OCI layout
      pyko build ./cmd/app --repo ghcr.io/acme --sign-keyless  in CI: signed with the job's OIDC identity
      pyko build ./cmd/app -L                                  into the local Docker or Podman
      pyko build --binary linux/amd64=./app --name app --tarball app.tar   a prebuilt static binary

    With no PATHS, builds every [[builds]] entry of the config, else '.'. Logs go to stderr, the
    references to stdout.
    """
    print_results(run_build(paths, options), options["as_json"])


COMMANDS = (build,)
