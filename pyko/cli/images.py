"""Commands on images as a whole: `base` (publish the built-in base), `index`, `rebase`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

import click

if TYPE_CHECKING:
    from ..commands.build import Built
    from ..plan.resolve import BasePlan
    from ..util.progress import Reporter

from ..plan.environment import process_environment
from .options import (
    open_signing_from,
    push_options,
    registries_from_flags,
    registry_options,
    reporting,
    signing_options,
)


def run_and_print(run: Callable[[BasePlan, Reporter], List[Built]], plan: BasePlan, quiet: bool) -> None:
    from ..util.progress import make_reporter

    reporter = make_reporter(quiet, process_environment())
    try:
        results = run(plan, reporter)
    finally:
        reporter.close()
    for result in results:
        click.echo(result.reference)


@click.command()
@click.option("--platform", "platforms", multiple=True, metavar="OS/ARCH[/VARIANT]",
              help="Platforms to include (default: all eight).")
@click.option("--oci-layout", "oci_layout", type=click.Path(), help="Add it to this OCI image layout.")
@click.option("--tarball", type=click.Path(), help="Write an archive that `docker load` accepts.")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag(s) (default: latest).")
@push_options
@registry_options
@click.option("-q", "--quiet", is_flag=True, help="No progress or log lines, only errors.")
def base(platforms: Tuple[str, ...], oci_layout: Optional[str], tarball: Optional[str], tags: Tuple[str, ...],
         repo: str, bare: bool, push: bool, insecure_registry: bool, registry_ca_file: str,
         registry_timeout: Optional[float], quiet: bool) -> None:
    """Publish pyko's built-in static base (pyko://static) as a multi-arch image.

    With --repo REG/static it is pushed there (as the repository itself);
    with --oci-layout or --tarball it is written locally.
    """
    from ..commands.build import publish_base
    from ..plan.resolve import Flags, resolve_base_command

    flags = Flags(platforms=tuple(platforms), tags=tuple(tags), oci_layout=oci_layout or "", tarball=tarball or "",
                  repo=repo, push=push, insecure_registry=insecure_registry, registry_ca_file=registry_ca_file,
                  registry_timeout=registry_timeout or 0)
    run_and_print(publish_base, resolve_base_command(flags, process_environment()), quiet)


@click.group()
def index() -> None:
    """Multi-platform indexes made from images already in a registry."""


@index.command("create")
@click.argument("target")
@click.argument("sources", nargs=-1, required=True)
@click.option("-t", "--tag", "tags", multiple=True, help="More tags for the index (TARGET's tag is the first).")
@click.option("--prefer", multiple=True, metavar="REF",
              help="When two sources offer one platform, take it from this one (repeatable).")
@click.option("--append", is_flag=True, help="Add to the index already under TARGET instead of replacing it.")
@click.option("--sbom", type=click.Choice(["spdx", "none"]), default="spdx", show_default=True,
              help="Attach an index SBOM that links the platform images.")
@signing_options
@click.option("--recursive", is_flag=True, help="When signing: also sign each platform's manifest.")
@registry_options
@click.option("-q", "--quiet", is_flag=True, help="No progress or log lines, only errors.")
def create(target: str, sources: Tuple[str, ...], tags: Tuple[str, ...], prefer: Tuple[str, ...], append: bool,
           sbom: str, recursive: bool, insecure_registry: bool, registry_ca_file: str,
           registry_timeout: Optional[float], quiet: bool, **signing: Any) -> None:
    """Make TARGET (REPO:TAG) an index of the platform images in SOURCES (images or indexes).

    Per-runner builds pushed with --push-by-digest merge here into one index;
    blobs are mounted within a registry and streamed across registries.
    """
    from ..commands.index import IndexRequest, create_index
    from ..util.timestamps import source_date_epoch

    environ = process_environment()
    epoch = source_date_epoch(environ)
    signer = open_signing_from(signing, environ, recursive=recursive, epoch=epoch)
    request = IndexRequest(target, tuple(sources), tuple(tags), tuple(prefer), append, sbom != "none", epoch)
    with reporting(quiet, environ) as reporter:
        registries = registries_from_flags(insecure_registry, registry_ca_file, registry_timeout, environ, reporter)
        reference = create_index(request, registries, signer, reporter)
    click.echo(reference)


@click.command(name="rebase")
@click.argument("image")
@click.option("--base", "new_base", required=True, help="The new base image (a reference, or pyko://static).")
@click.option("--old-base", default="", help="The base IMAGE is on now (default: what its annotations say).")
@click.option("-t", "--tag", "tags", multiple=True, help="Tag(s) for the result (default: IMAGE's own tag).")
@click.option("--oci-layout", default="", type=click.Path(), help="IMAGE is NAME:TAG in this OCI layout.")
@signing_options
@click.option("--sign-recursive", is_flag=True, help="When signing: also sign each platform's manifest.")
@registry_options
@click.option("-q", "--quiet", is_flag=True, help="No progress or log lines, only errors.")
def rebase_command(image: str, new_base: str, old_base: str, tags: Tuple[str, ...], oci_layout: str,
                   sign_recursive: bool, insecure_registry: bool, registry_ca_file: str,
                   registry_timeout: Optional[float], quiet: bool, **signing: Any) -> None:
    """Move IMAGE, every platform at once, onto a new base without recompiling; print the new reference.

    The app's layers and config stay; the base's layers, history and Env share are replaced.
    """
    from ..commands.rebase import RebaseRequest, write_rebased
    from ..plan.environment import cache_dir
    from ..util.timestamps import source_date_epoch

    environ = process_environment()
    signer = open_signing_from(signing, environ, recursive=sign_recursive, epoch=source_date_epoch(environ))
    request = RebaseRequest(image, new_base, old_base, tuple(tags), oci_layout or "")
    with reporting(quiet, environ) as reporter:
        registries = registries_from_flags(insecure_registry, registry_ca_file, registry_timeout, environ, reporter)
        reference = write_rebased(request, cache_dir(environ), registries, signer, reporter)
    click.echo(reference)


COMMANDS = (base, index, rebase_command)
