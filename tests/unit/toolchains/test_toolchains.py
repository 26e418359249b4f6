"""toolchains/__init__.py: a build's env entries over the environment, names only for provenance."""
import pytest

from pyko.errors import UsageError
from pyko.toolchains import Source, ToolchainSettings, env_names, with_build_env


def test_build_env_entries_win_and_the_input_is_untouched():
    environ = {"PATH": "/bin", "GOFLAGS": "-mod=mod"}
    merged = with_build_env(environ, ["GOFLAGS=-mod=vendor", "EMPTY=", "EQ=a=b"], "./app")
    assert merged == {"PATH": "/bin", "GOFLAGS": "-mod=vendor", "EMPTY": "", "EQ": "a=b"}
    assert environ["GOFLAGS"] == "-mod=mod"


def test_an_entry_without_equals_names_the_build():
    with pytest.raises(UsageError, match="env entry 'NOVALUE' for ./app must look like KEY=VALUE"):
        with_build_env({}, ["NOVALUE"], "./app")


def test_provenance_records_names_never_values():
    assert env_names(["TOKEN=secret", "A=1"]) == ("A", "TOKEN")


def test_a_source_is_prebuilt_when_it_has_files():
    assert not Source("./app").prebuilt
    assert Source("", "tool", ToolchainSettings(), {"linux/amd64": "./tool"}).prebuilt
