"""Registry accounts: `pyko login` and `pyko logout`, stored as docker stores them."""
from __future__ import annotations

import sys
from typing import Optional

import click


@click.command()
@click.argument("registry")
@click.option("-u", "--username", required=True, help="User name.")
@click.option("-p", "--password", default=None, help="Password (prefer --password-stdin: argv is visible to others).")
@click.option("--password-stdin", is_flag=True, help="Read the password or token from standard input.")
@click.option("--insecure-registry", is_flag=True, help="Allow plain HTTP and unverified TLS for this registry.")
@click.option("--registry-ca-file", default="", type=click.Path(), help="An extra CA bundle to trust.")
def login(registry: str, username: str, password: Optional[str], password_stdin: bool, insecure_registry: bool,
          registry_ca_file: str) -> None:
    """Check credentials with REGISTRY and save them where docker would."""
    from ..commands.registries import transport_for
    from ..plan.environment import process_environment
    from ..plan.resolve import registry_settings
    from ..transport.registry.login import login as do_login

    if password_stdin == (password is not None):
        raise click.UsageError("give exactly one of --password-stdin or -p/--password")
    if password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    if not password:
        raise click.UsageError("the password is empty")
    environ = process_environment()
    settings = registry_settings(insecure_registry, registry_ca_file, None, environ)
    where = do_login(registry, username, password, transport_for(settings, environ))
    click.echo(f"Login Succeeded (credentials saved in {where})", err=True)


@click.command()
@click.argument("registry")
def logout(registry: str) -> None:
    """Remove the saved credentials for REGISTRY."""
    from ..plan.environment import process_environment
    from ..transport.registry.login import logout as do_logout

    if do_logout(registry, process_environment()):
        click.echo(f"Removed login credentials for {registry}", err=True)
    else:
        click.echo(f"Not logged in to {registry}", err=True)


COMMANDS = (login, logout)
