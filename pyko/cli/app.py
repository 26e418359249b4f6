"""The `pyko` command group and its entry point: every command registered, failures turned into one line."""
from __future__ import annotations

import signal
import sys
import threading
import traceback

import click

from .. import __version__
from ..errors import PykoError, clean_text
from . import accounts, building, images, kubernetes, signing

_state = {"verbose": False}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and toolchain commands.")
@click.version_option(__version__, prog_name="pyko")
def cli(verbose: bool) -> None:
    """Build minimal, multi-arch container images for static binaries."""
    _state["verbose"] = verbose


for _module in (building, kubernetes, images, accounts, signing):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


class Terminated(BaseException):
    """SIGTERM: unwind like Ctrl-C (every `with` cleans up), then exit 143."""


def _on_signal(signum, frame) -> None:
    from ..util import children

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

