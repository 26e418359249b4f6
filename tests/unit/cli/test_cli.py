"""Every command imports what it needs and answers --help: a broken import is caught here, not by a user."""
import pytest
from click.testing import CliRunner

from pyko.cli import cli

COMMANDS = sorted(cli.commands)


def test_the_commands_are_there():
    assert {"build", "resolve", "apply", "create", "delete", "base", "login", "logout", "sign", "verify",
            "generate-key-pair"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
