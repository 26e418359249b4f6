"""cli/app.py: every command registered with a help line; failures become one `pyko: error:` line
with the exit code of their kind, a bug is exit 70, tracebacks only with --verbose."""
import signal

import click
import pytest
from click.testing import CliRunner

from pyko.cli import cli, main
from pyko.cli.options import VERBOSE
from pyko.errors import BuildError, UsageError

COMMANDS = sorted(cli.commands)


@pytest.fixture(autouse=True)
def keep_signal_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_the_commands_are_there():
    assert {"build", "resolve", "apply", "create", "delete", "base", "index", "rebase", "login", "logout", "sign",
            "attest", "verify", "verify-attestation", "generate-key-pair", "version", "completion",
            "run"} == set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_answers_help_and_has_a_help_line(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert cli.commands[name].get_short_help_str().strip(), f"pyko --help shows no description for {name}"


def _failing(exc):
    @click.command("fails")
    def fails():
        raise exc
    return fails


@pytest.mark.parametrize("exc, code, line", [
    (UsageError("bad flag: use --x"), 2, "pyko: error: bad flag: use --x"),
    (BuildError("compile failed", details="main.go:3: oops"), 1, "pyko: error: compile failed"),
    (RuntimeError("a bug\nwith a second line"), 70, "pyko: internal error: RuntimeError: a bug?with a second line"),
    (KeyboardInterrupt(), 130, "pyko: aborted"),  # click turns Ctrl-C inside a command into Abort
])
def test_failures_are_one_line_with_their_exit_code(monkeypatch, capsys, exc, code, line):
    monkeypatch.setitem(cli.commands, "fails", _failing(exc))
    with pytest.raises(SystemExit) as done:
        main(["fails"])
    err = capsys.readouterr().err
    assert done.value.code == code and line in err.splitlines()[-1]
    assert "Traceback" not in err
    if isinstance(exc, BuildError):
        assert err.splitlines()[0] == "main.go:3: oops"  # the compiler's output first, then the one line


def test_verbose_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setitem(cli.commands, "fails", _failing(UsageError("bad")))
    monkeypatch.setitem(VERBOSE, "on", False)
    with pytest.raises(SystemExit):
        main(["--verbose", "fails"])
    assert "Traceback" in capsys.readouterr().err


def test_click_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as done:
        main(["build", "--no-such-flag"])
    assert done.value.code == 2 and "No such option" in capsys.readouterr().err


def test_kos_boolean_flag_syntax_is_understood():
    from pyko.cli.app import ko_boolean_syntax

    assert ko_boolean_syntax(["build", "--bare=true", "--tag-only=false", "--push", "./cmd/app"]) == [
        "build", "--bare", "--push=true", "./cmd/app"]
    assert ko_boolean_syntax(["build", "--push=false", "-L", "--", "--bare=true"]) == [
        "build", "--push=false", "-L", "--", "--bare=true"]
    assert ko_boolean_syntax(["delete", "-f", "x", "--recursive=false"])[-1] == "--recursive=false"


def test_every_command_has_a_whole_summary_in_the_help():
    from click.testing import CliRunner

    from pyko.cli.app import SUMMARIES, cli

    assert set(SUMMARIES) == set(cli.commands)
    shown = CliRunner().invoke(cli, ["--help"], terminal_width=100).output
    for name, summary in SUMMARIES.items():
        assert summary in shown, name
    assert "..." not in shown.split("Commands:", 1)[1]


def test_build_help_starts_with_examples_and_groups_its_options():
    from click.testing import CliRunner

    from pyko.cli.app import cli
    from pyko.cli.options import SECTIONS

    shown = CliRunner().invoke(cli, ["build", "--help"], terminal_width=120).output
    assert shown.index("Examples:") < shown.index("Where the images go:")
    headings = [heading for heading, _ in SECTIONS if f"\n{heading}:\n" in shown]
    assert headings == [heading for heading, _ in SECTIONS]   # every section, in order
    where = shown.split("Where the images go:", 1)[1].split("What is built:", 1)[0]
    assert where.index("--repo") < where.index("--oci-layout") < where.index("--json")
    assert "--sign-keyless" in shown.split("Signing, SBOMs, provenance:", 1)[1].split("Go's build cache", 1)[0]
