"""The `pyko` command group and its entry point: every command registered, failures turned into one line."""
from __future__ import annotations

import signal
import sys
import threading
import traceback
from types import FrameType
from typing import List, Optional, Sequence, Set

import click

from .. import __version__
from ..errors import PykoError, clean_text
from . import accounts, building, images, ko_surface, kubernetes, signing
from .options import VERBOSE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and toolchain commands.")
@click.version_option(__version__, prog_name="pyko")
def cli(verbose: bool) -> None:
    """Build minimal, multi-arch container images for static binaries."""
    VERBOSE["on"] = VERBOSE["on"] or verbose


#: Each command's line in `pyko --help`, whole (click would cut the docstring's first sentence
#: short, mid-phrase).
SUMMARIES = {
    "build": "Build Go, Rust or prebuilt binaries into images.",
    "resolve": "Build the ko:// references in YAML; print it.",
    "apply": "resolve, then kubectl apply the YAML.",
    "create": "resolve, then kubectl create the YAML.",
    "delete": "kubectl delete, as ko delete does.",
    "run": "Not supported (build, then kubectl run).",
    "base": "Publish the built-in base, pyko://static.",
    "index": "Make a multi-platform index from images.",
    "rebase": "Move an image onto a new base, no recompiling.",
    "login": "Save credentials for a registry.",
    "logout": "Remove the saved credentials for a registry.",
    "generate-key-pair": "Make a cosign key pair for signing.",
    "sign": "Sign an image (with a key, or keyless).",
    "attest": "Sign a predicate about an image (cosign attest).",
    "verify": "Check an image's signatures, as cosign does.",
    "verify-attestation": "Check an image's attestations of one type.",
    "version": "Print pyko's version.",
    "completion": "Print the shell completion script.",
}

for _module in (building, kubernetes, images, accounts, signing, ko_surface):
    for _command in _module.COMMANDS:
        _command.short_help = SUMMARIES.get(_command.name or "", _command.short_help)
        cli.add_command(_command)


class Terminated(BaseException):
    """SIGTERM: unwind like Ctrl-C (every `with` cleans up), then exit 143."""


def _on_signal(signum: int, frame: Optional[FrameType]) -> None:
    from ..util import children

    # Children first: a work directory is removed only once nothing writes into it.
    children.stop_all()
    raise KeyboardInterrupt if signum == signal.SIGINT else Terminated


def _boolean_flags() -> Set[str]:
    """The long names of every on/off flag of every command (e.g. --bare, --tag-only)."""
    return {opt for command in cli.commands.values() for param in command.params
            if isinstance(param, click.Option) and param.is_flag and not param.secondary_opts
            for opt in param.opts if opt.startswith("--")}


def ko_boolean_syntax(argv: Sequence[str]) -> List[str]:
    """ko's (pflag's) forms of on/off flags, in click's terms: `--bare=true` is --bare, `--bare=false` is
    nothing, and a bare `--push` means --push=true (it never takes the next argument as its value)."""
    flags = _boolean_flags()
    out: List[str] = []
    if next((arg for arg in argv if not arg.startswith("-")), "") == "delete":
        return list(argv)   # kubectl's arguments, passed through as written
    for n, arg in enumerate(argv):
        if arg == "--":
            return out + list(argv[n:])
        name, sep, value = arg.partition("=")
        if sep and name in flags and value.lower() in ("true", "false", "1", "0", "t", "f"):
            out += [name] if value.lower() in ("true", "1", "t") else []
        else:
            out.append("--push=true" if arg == "--push" else arg)
    return out


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console entry point: runs the CLI and turns failures into one clear line."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    try:
        argv = ko_boolean_syntax(sys.argv[1:] if argv is None else argv)
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
        if err.details and err.details.strip() not in str(err):   # a one-line tool message is said once
            click.echo(err.details.rstrip("\n"), err=True)
        if VERBOSE["on"]:
            traceback.print_exc()
        click.echo(f"pyko: error: {clean_text(err, 2000)}", err=True)
        sys.exit(err.exit_code)
    except Exception as err:  # a bug in pyko: say so, in one line unless --verbose
        if VERBOSE["on"]:
            traceback.print_exc()
        click.echo(f"pyko: internal error: {type(err).__name__}: {clean_text(err, 500)} "
                   "(run with --verbose for a traceback, and please report it)", err=True)
        sys.exit(70)

