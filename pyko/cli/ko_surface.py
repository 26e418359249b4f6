"""ko's commands that are not pyko's own: `version` and `completion` work as in ko; `run` is refused
with the two steps that do the same, so a ko user's script fails with one line that says what to do."""
from __future__ import annotations

from typing import Tuple

import click

from .. import __version__


@click.command()
def version() -> None:
    """Print pyko's version (as `pyko --version`)."""
    click.echo(__version__)


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script, e.g. `source <(pyko completion bash)`."""
    from click.shell_completion import get_completion_class

    root = ctx.find_root()
    completion_class = get_completion_class(shell)
    if completion_class is None:   # click.Choice lets only shells click knows through
        raise click.BadParameter(f"click has no completion for {shell}", param_hint="SHELL")
    completer = completion_class(root.command, {}, root.info_name or "pyko", "_PYKO_COMPLETE")
    click.echo(completer.source())


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(args: Tuple[str, ...]) -> None:
    """Not supported: build, then `kubectl run` the printed reference."""
    from ..errors import UsageError

    raise UsageError("`run` is ko's `kubectl run` wrapper, which pyko does not have: "
                     "kubectl run NAME --image=\"$(pyko build ./cmd/app)\"")


COMMANDS = (version, completion, run)
