"""pyko's command line: parse flags, call pyko.publish, print references.

Results go to stdout (one reference per line, so `IMAGE=$(pyko build ...)`
works); logs and progress go to stderr. A PykoError becomes one line
`pyko: error: ...` and a non-zero exit; a traceback only with --verbose.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import traceback

import click

from . import __version__
from .errors import PykoError, clean_text

_state = {"verbose": False}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and toolchain commands.")
@click.version_option(__version__, prog_name="pyko")
def cli(verbose: bool) -> None:
    """Build minimal, multi-arch container images for static binaries."""
    _state["verbose"] = verbose


def registry_options(func):
    """Flags shared by the commands that push."""
    options = [
        click.option("--repo", default="",
                     help="Repository to push to; images go to <repo>/<name> "
                          "(default: $PYKO_DOCKER_REPO, else $KO_DOCKER_REPO)."),
        click.option("--bare", is_flag=True, help="Push to <repo> itself, not <repo>/<name>."),
        click.option("--push", type=click.BOOL, default=True, metavar="BOOL",
                     help="--push=false builds (and writes files) without pushing."),
        click.option("--insecure-registry", is_flag=True,
                     help="Allow plain HTTP and unverified TLS (loopback registries need no flag)."),
        click.option("--registry-ca-file", default="", type=click.Path(),
                     help="An extra CA bundle to trust for registries."),
        click.option("--registry-timeout", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
                     envvar="PYKO_REGISTRY_TIMEOUT", show_envvar=True,
                     help="Give up retrying one registry operation after this long (default: 300)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--platform", "platforms", multiple=True, metavar="OS/ARCH[/VARIANT]",
              help="Platforms to build, comma-separated or repeated, or 'all' "
                   "(default: defaultPlatforms from the config, else this machine's).")
@click.option("--oci-layout", "--oci-layout-path", "oci_layout", type=click.Path(),
              help="Add the image to this OCI image layout directory.")
@click.option("--tarball", type=click.Path(), help="Write an archive that `docker load` accepts.")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag(s) to give the image (default: latest).")
@click.option("--base", default="", help="Base image (default: defaultBaseImage, i.e. pyko://static).")
@click.option("--user", default="", help="User the image runs as (default: 65532, nonroot).")
@click.option("--entrypoint", is_flag=True, help="Set ENTRYPOINT (ko's style) instead of CMD.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Builds to run at once (default: number of CPUs).")
@click.option("--binary", "binaries", multiple=True, metavar="OS/ARCH[/VARIANT]=FILE",
              help="Pack a prebuilt static binary for a platform (repeat per platform; needs --name).")
@click.option("--name", default="", help="Image name (default: the directory's name).")
@click.option("--bin", "bin_name", default="", help="Rust: the binary target of a crate with several.")
@click.option("--rust-libc", type=click.Choice(["musl", "gnu"]), default=None,
              help="Rust: musl targets (default) or static glibc (gnu, with +crt-static).")
@click.option("--rust-builder", type=click.Choice(["cargo", "zigbuild"]), default=None,
              help="Rust: `cargo build` (default) or `cargo zigbuild` for cross-linking.")
@registry_options
@click.option("--sbom", type=click.Choice(["spdx", "none"]), default="spdx", show_default=True,
              help="SPDX SBOMs, attached to pushed images as cosign's sha256-<hex>.sbom; none turns them off.")
@click.option("--sbom-dir", default="", type=click.Path(), help="Also write the SBOMs as files here.")
@click.option("--sign-key", default="", type=click.Path(),
              help="Sign what is pushed (or written to --oci-layout) with this key (cosign.key).")
@click.option("--recursive", is_flag=True, help="With --sign-key: also sign each platform's manifest.")
@click.option("--sign-annotation", "sign_annotations", multiple=True, metavar="KEY=VALUE",
              help="Annotation to put in the signature payload (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="No progress or log lines, only errors.")
def build(paths, platforms, oci_layout, tarball, tags, base, user, entrypoint, jobs, binaries, name,
          bin_name, rust_libc, rust_builder, repo, bare, push, insecure_registry, registry_ca_file,
          registry_timeout, sbom, sbom_dir, sign_key, recursive, sign_annotations, quiet):
    """Build PATHS (Go main packages or Rust crates) into images and print their digest references.

    With no PATHS, builds every [[builds]] entry of the config, else '.'.
    """
    from .config import load_config
    from .plan import Flags, resolve
    from .publish import build as run_build

    flags = Flags(
        paths=tuple(paths), platforms=tuple(platforms), base=base, tags=tuple(tags), user=user,
        entrypoint=entrypoint, jobs=jobs, oci_layout=oci_layout or "", tarball=tarball or "",
        binaries=tuple(_split_binary(b) for b in binaries), name=name, bin=bin_name, rust_libc=rust_libc or "",
        rust_builder=rust_builder or "", repo=repo, bare=bare, push=push, insecure_registry=insecure_registry,
        registry_ca_file=registry_ca_file, registry_timeout=registry_timeout or 0, sbom=sbom,
        sbom_dir=sbom_dir or "", sign_key=sign_key or "", sign_recursive=recursive,
        sign_annotations=tuple(_key_values(sign_annotations, "--sign-annotation")),
    )
    environ = dict(os.environ)
    _run_and_print(run_build, resolve(flags, load_config(os.getcwd(), environ), environ), quiet)


def _run_and_print(run, plan, quiet) -> None:
    from .progress import make_reporter

    reporter = make_reporter(quiet)
    try:
        results = run(plan, reporter)
    finally:
        reporter.close()
    for result in results:
        click.echo(result.reference)


@cli.command()
@click.option("--platform", "platforms", multiple=True, metavar="OS/ARCH[/VARIANT]",
              help="Platforms to include (default: all eight).")
@click.option("--oci-layout", "oci_layout", type=click.Path(), help="Add it to this OCI image layout.")
@click.option("--tarball", type=click.Path(), help="Write an archive that `docker load` accepts.")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag(s) (default: latest).")
@registry_options
@click.option("-q", "--quiet", is_flag=True, help="No progress or log lines, only errors.")
def base(platforms, oci_layout, tarball, tags, repo, bare, push, insecure_registry, registry_ca_file,
         registry_timeout, quiet):
    """Publish pyko's built-in static base (pyko://static) as a multi-arch image.

    With --repo REG/static it is pushed there (as the repository itself);
    with --oci-layout or --tarball it is written locally.
    """
    from .plan import Flags, resolve_base_command
    from .publish import publish_base

    flags = Flags(platforms=tuple(platforms), tags=tuple(tags), oci_layout=oci_layout or "", tarball=tarball or "",
                  repo=repo, push=push, insecure_registry=insecure_registry, registry_ca_file=registry_ca_file,
                  registry_timeout=registry_timeout or 0)
    _run_and_print(publish_base, resolve_base_command(flags, dict(os.environ)), quiet)


@cli.command()
@click.argument("registry")
@click.option("-u", "--username", required=True, help="User name.")
@click.option("-p", "--password", default=None, help="Password (prefer --password-stdin: argv is visible to others).")
@click.option("--password-stdin", is_flag=True, help="Read the password or token from standard input.")
@click.option("--insecure-registry", is_flag=True, help="Allow plain HTTP and unverified TLS for this registry.")
@click.option("--registry-ca-file", default="", type=click.Path(), help="An extra CA bundle to trust.")
def login(registry, username, password, password_stdin, insecure_registry, registry_ca_file):
    """Check credentials with REGISTRY and save them where docker would."""
    from .transport.registry.login import login as do_login

    if password_stdin == (password is not None):
        raise click.UsageError("give exactly one of --password-stdin or -p/--password")
    if password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    if not password:
        raise click.UsageError("the password is empty")
    where = do_login(registry, username, password, insecure_registry, registry_ca_file, dict(os.environ))
    click.echo(f"Login Succeeded (credentials saved in {where})", err=True)


@cli.command()
@click.argument("registry")
def logout(registry):
    """Remove the saved credentials for REGISTRY."""
    from .transport.registry.login import logout as do_logout

    if do_logout(registry, dict(os.environ)):
        click.echo(f"Removed login credentials for {registry}", err=True)
    else:
        click.echo(f"Not logged in to {registry}", err=True)


def _key_values(values, flag: str):
    out = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} must look like key=value", param_hint=flag)
        out.append((key, val))
    return out


@cli.command("generate-key-pair")
@click.option("--output-key-prefix", default="cosign", show_default=True,
              help="Writes PREFIX.key (encrypted, cosign's format) and PREFIX.pub.")
def generate_key_pair(output_key_prefix):
    """Make an ECDSA P-256 key pair for signing (password from COSIGN_PASSWORD or a prompt)."""
    from .cosign import generate_key_pair as make
    from .cosign import password_from
    from .transport.atomic import atomic_file

    key_path, pub_path = f"{output_key_prefix}.key", f"{output_key_prefix}.pub"
    for path in (key_path, pub_path):
        if os.path.exists(path):
            raise click.UsageError(f"{path} already exists; move it away or choose --output-key-prefix")
    private, public = make(password_from(os.environ, confirm=True, what="the new private key"))
    with atomic_file(key_path, mode=0o600) as f:
        f.write(private)
    with atomic_file(pub_path) as f:
        f.write(public)
    click.echo(f"Private key written to {key_path}", err=True)
    click.echo(f"Public key written to {pub_path}", err=True)


def _store_for(image: str, oci_layout: str, insecure: bool, ca_file: str):
    from .plan import RegistrySettings, default_jobs
    from .publish import registries_for
    from .supplychain import store_for

    environ = dict(os.environ)
    return store_for(image, oci_layout,
                     registries_for(RegistrySettings(insecure, ca_file), environ, default_jobs(None)))


@cli.command()
@click.argument("image")
@click.option("--key", "key_path", required=True, type=click.Path(), help="The private key (cosign.key).")
@click.option("-a", "--annotation", "annotations", multiple=True, metavar="KEY=VALUE",
              help="Annotation to put in the signature payload (repeatable).")
@click.option("--recursive", is_flag=True, help="For an index, also sign each platform's manifest.")
@click.option("--oci-layout", default="", type=click.Path(), help="Sign an image in this OCI layout.")
@click.option("--insecure-registry", is_flag=True, help="Allow plain HTTP and unverified TLS.")
@click.option("--registry-ca-file", default="", type=click.Path(), help="An extra CA bundle to trust.")
def sign(image, key_path, annotations, recursive, oci_layout, insecure_registry, registry_ca_file):
    """Sign IMAGE (by tag or digest) the way cosign does, and store the signature beside it."""
    from .cosign import load_private_key
    from .supplychain import sign_digest, subjects

    key = load_private_key(key_path, os.environ)
    store, ident, name = _store_for(image, oci_layout, insecure_registry, registry_ca_file)
    for digest in subjects(store, ident, recursive):
        sign_digest(store, digest, name, key, dict(_key_values(annotations, "--annotation")))
        click.echo(f"{name}@{digest}")


@cli.command()
@click.argument("image")
@click.option("--key", "key_path", required=True, type=click.Path(), help="The public key (cosign.pub).")
@click.option("-a", "--annotation", "annotations", multiple=True, metavar="KEY=VALUE",
              help="Require this annotation in the signed payload (repeatable).")
@click.option("--oci-layout", default="", type=click.Path(), help="Verify an image in this OCI layout.")
@click.option("--insecure-registry", is_flag=True, help="Allow plain HTTP and unverified TLS.")
@click.option("--registry-ca-file", default="", type=click.Path(), help="An extra CA bundle to trust.")
def verify(image, key_path, annotations, oci_layout, insecure_registry, registry_ca_file):
    """Check IMAGE's signatures with a public key; print the payloads that verify."""
    from .cosign import load_public_key
    from .supplychain import verify_digest

    key = load_public_key(key_path)
    store, ident, name = _store_for(image, oci_layout, insecure_registry, registry_ca_file)
    digest, _ = store.resolve(ident)
    payloads = verify_digest(store, digest, key, dict(_key_values(annotations, "--annotation")), image)
    click.echo(f"Verified {len(payloads)} signature(s) of {name}@{digest}: the signature, and that the "
               "payload names this digest" + (" and the annotations" if annotations else ""), err=True)
    for signed in payloads:
        click.echo(signed.decode())


def _split_binary(value: str):
    platform, sep, path = value.partition("=")
    if not sep or not platform or not path:
        raise click.BadParameter(f"{value!r} must look like linux/amd64=./path/to/binary",
                                 param_hint="--binary")
    return platform, path


class Terminated(BaseException):
    """SIGTERM: unwind like Ctrl-C (every `with` cleans up), then exit 143."""


def _on_signal(signum, frame) -> None:
    from . import children

    # Children first: a work directory is removed only once nothing writes into it.
    children.stop_all()
    raise KeyboardInterrupt if signum == signal.SIGINT else Terminated


def main(argv=None) -> None:
    """Console entry point: runs the CLI and turns failures into one clear line."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    try:
        cli.main(args=argv, prog_name="pyko", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except click.Abort:
        click.echo("pyko: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("pyko: interrupted", err=True)
        sys.exit(130)
    except Terminated:
        click.echo("pyko: terminated", err=True)
        sys.exit(143)
    except PykoError as err:
        if err.details:
            click.echo(err.details.rstrip("\n"), err=True)
        if _state["verbose"]:
            traceback.print_exc()
        click.echo(f"pyko: error: {clean_text(err, 2000)}", err=True)
        sys.exit(err.exit_code)
    except Exception as err:  # a bug in pyko: say so, in one line unless --verbose
        if _state["verbose"]:
            traceback.print_exc()
        click.echo(f"pyko: internal error: {type(err).__name__}: {clean_text(err, 500)} "
                   "(run with --verbose for a traceback, and please report it)", err=True)
        sys.exit(70)
