"""cli/options.py: the registry flags of commands without a build plan become clients with the
limits the plan parses (flag first, then PYKO_REGISTRY_*)."""
import pytest

from pyko.cli.options import registries_from_flags
from pyko.errors import UsageError


def test_the_flags_and_the_environment_reach_the_transport(tmp_path):
    environ = {"PYKO_REGISTRY_RETRIES": "3", "PYKO_REGISTRY_TIMEOUT": "20", "PYKO_CACHE_DIR": str(tmp_path)}
    registries = registries_from_flags(True, "ca.pem", None, environ)
    transport = registries.transport
    assert (transport.insecure, transport.ca_file, transport.retries, transport.deadline) == (True, "ca.pem", 3, 20)
    assert transport.cache_dir == str(tmp_path)
    assert registries_from_flags(False, "", 7, environ).transport.deadline == 7


def test_a_bad_environment_value_is_one_usage_error():
    with pytest.raises(UsageError, match="PYKO_REGISTRY_TIMEOUT"):
        registries_from_flags(False, "", None, {"PYKO_REGISTRY_TIMEOUT": "0"})
