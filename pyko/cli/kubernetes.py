"""The Kubernetes flow, as in ko: `resolve` (YAML in, digests filled in), `apply` and
`create` (resolve, then kubectl), `delete` (kubectl, passed through)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any, Mapping, Optional, Sequence, Tuple

import click

from ..plan.environment import kubectl_program, process_environment
from .building import run_build
from .options import F, SectionedCommand, apply_options, push_options, registry_options, yaml_build_options


def yaml_options(func: F) -> F:
    return apply_options(func, [
        click.option("-f", "--filename", "filenames", multiple=True, required=True, metavar="FILE|DIR|-",
                     help="YAML to resolve: a file, a directory of .yaml/.yml/.json files, or - for stdin."),
        click.option("-R", "--recursive", "recurse", is_flag=True,
                     help="Also read the directories under a -f directory."),
        click.option("-l", "--selector", default="", metavar="SELECTOR",
                     help="Keep only documents whose labels match, e.g. app=web,tier!=db (kubectl's form)."),
    ])


def resolved_yaml(filenames: Sequence[str], recursive: bool, selector: str, options: Mapping[str, Any]) -> str:
    """The documents with every pyko:// and ko:// reference built, pushed and replaced by its digest."""
    from ..commands.kube_yaml import resolve_documents
    from ..plan.resolve import check_yaml_flags

    environ = process_environment()
    check_yaml_flags(bool(options.get("as_json")), options["repo"], bool(options["local"]), environ)
    return resolve_documents(filenames, recursive, selector, sys.stdin.read, os.getcwd(), environ,
                             lambda paths, named_by_ko: [built.reference for built in
                                                         run_build(paths, options, kubernetes=True,
                                                                   ko_references=named_by_ko)],
                             one_name=bool(options.get("name")))


@click.command(cls=SectionedCommand)
@yaml_options
@yaml_build_options
@push_options
@registry_options
def resolve(filenames: Tuple[str, ...], recurse: bool, selector: str, **options: Any) -> None:
    """Build every pyko:// and ko:// reference in Kubernetes YAML and print the YAML with digests.

    Each distinct reference is built once (all in parallel) and pushed; the YAML
    is otherwise unchanged: comments, order and quoting are kept.
    """
    click.echo(resolved_yaml(filenames, recurse, selector, options), nl=False)


def _find_kubectl() -> str:
    """kubectl's path, checked before anything is built or pushed."""
    from ..errors import UsageError

    kubectl = shutil.which(kubectl_program(process_environment()))
    if not kubectl:
        raise UsageError("kubectl is not on PATH: install it, or use `pyko resolve -f ... > out.yaml`")
    return kubectl


def _kubectl(kubectl: str, args: Sequence[str], stdin: Optional[str] = None) -> None:
    proc = subprocess.run([kubectl, *args], input=stdin, text=True)
    if proc.returncode:
        sys.exit(proc.returncode)


def _kube_command(verb: str) -> click.Command:
    # help= rather than setting __doc__ afterwards: click reads the help when the command is made.
    @click.command(verb, cls=SectionedCommand, context_settings={"ignore_unknown_options": False},
                   help=f"Resolve the YAML as `pyko resolve` does, then `kubectl {verb} -f -` it.\n\n"
                        f"Arguments after -- go to kubectl, e.g. pyko {verb} -f config/ -- --namespace dev")
    @yaml_options
    @yaml_build_options
    @push_options
    @registry_options
    @click.argument("kubectl_args", nargs=-1, type=click.UNPROCESSED)
    def command(filenames: Tuple[str, ...], recurse: bool, selector: str, kubectl_args: Tuple[str, ...],
                **options: Any) -> None:
        kubectl = _find_kubectl()
        text = resolved_yaml(filenames, recurse, selector, options)
        _kubectl(kubectl, [verb, "-f", "-", *kubectl_args], text)

    return command


apply = _kube_command("apply")
create = _kube_command("create")


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("kubectl_args", nargs=-1, type=click.UNPROCESSED)
def delete(kubectl_args: Tuple[str, ...]) -> None:
    """`kubectl delete` with these arguments (as ko's delete does)."""
    _kubectl(_find_kubectl(), ["delete", *kubectl_args])


COMMANDS = (resolve, apply, create, delete)
