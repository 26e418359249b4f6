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
    from ..commands import kube_yaml as kube
    from ..errors import UsageError
    from ..plan.resolve import Flags, repository_from
    from ..toolchains.drivers import locate

    if options.get("as_json"):
        raise UsageError("--json is for `pyko build`; resolve writes YAML")
    if not (repository_from(Flags(repo=options["repo"]), process_environment()) or options["local"]):
        raise UsageError("the YAML needs references a cluster can pull: set --repo or PYKO_DOCKER_REPO "
                         "(or --local for a local engine)")
    requirements = kube.parse_selector(selector)
    docs = [doc for name, text in kube.read_inputs(filenames, recursive, sys.stdin.read)
            for doc in kube.documents(name, text) if kube.selected(doc, requirements)]
    refs = [ref for doc in docs for ref in doc.refs]
    cwd, environ = os.getcwd(), process_environment()
    directories = kube.build_paths(refs, lambda target: locate(target, cwd, environ), cwd)
    if options.get("name") and len(set(directories.values())) > 1:
        raise UsageError("--name names one image, but the YAML references several")
    paths = list(dict.fromkeys(directories.values()))
    built = dict(zip(paths, run_build(paths, options, kubernetes=True))) if paths else {}
    digests = {value: built[directory].reference for value, directory in directories.items()}
    return kube.joined(docs, digests)


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
