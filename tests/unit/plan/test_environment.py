"""plan/environment.py: pyko's own variables, each parsed once, with one rule each."""
import pytest

from pyko.errors import UsageError
from pyko.plan import environment


def test_registry_limits_default_and_parse():
    assert environment.registry_timeout(0, {}) == 300
    assert environment.registry_timeout(0, {"PYKO_REGISTRY_TIMEOUT": "12.5"}) == 12.5
    assert environment.registry_timeout(7, {"PYKO_REGISTRY_TIMEOUT": "12.5"}) == 7  # the flag wins
    assert environment.registry_retries({"PYKO_REGISTRY_RETRIES": "2"}) == 2
    assert environment.registry_backoff({}) == 0.5


@pytest.mark.parametrize("value, says", [("0.5", "at least 1"), ("soon", "not a number"), ("nan", "at least 1")])
def test_a_timeout_under_a_second_or_not_a_number_is_refused(value, says):
    with pytest.raises(UsageError, match=f"PYKO_REGISTRY_TIMEOUT=.*{says}"):
        environment.registry_timeout(0, {"PYKO_REGISTRY_TIMEOUT": value})


def test_negative_retries_are_refused():
    with pytest.raises(UsageError, match="PYKO_REGISTRY_RETRIES"):
        environment.registry_retries({"PYKO_REGISTRY_RETRIES": "-1"})


def test_pykos_name_wins_over_kos():
    both = {"PYKO_DOCKER_REPO": "a.io/x", "KO_DOCKER_REPO": "b.io/y",
            "PYKO_DATA_PATH_ALLOWED_ROOT": "/p", "KO_DATA_PATH_ALLOWED_ROOT": "/k"}
    assert environment.docker_repo(both) == "a.io/x" and environment.kodata_root(both) == "/p"
    assert environment.docker_repo({"KO_DOCKER_REPO": "b.io/y"}) == "b.io/y"
    assert environment.kodata_root({}) == ""


def test_cache_dir_kubectl_sigstore_and_local_engine():
    assert environment.cache_dir({"PYKO_CACHE_DIR": "/c"}) == "/c"
    assert environment.cache_dir({}).endswith("pyko")
    assert environment.kubectl_program({}) == "kubectl"
    assert environment.sigstore_offline({"PYKO_SIGSTORE_OFFLINE": "1"}) and not environment.sigstore_offline({})
    assert environment.local_engine("", {"PYKO_LOCAL_ENGINE": "podman"}) == "podman"
    assert environment.local_engine("docker", {"PYKO_LOCAL_ENGINE": "podman"}) == "docker"
    with pytest.raises(UsageError, match="PYKO_LOCAL_ENGINE='lxc'"):
        environment.local_engine("", {"PYKO_LOCAL_ENGINE": "lxc"})


def test_the_process_environment_is_a_copy(monkeypatch):
    monkeypatch.setenv("PYKO_TEST_MARK", "1")
    seen = environment.process_environment()
    seen["PYKO_TEST_MARK"] = "changed"
    assert environment.process_environment()["PYKO_TEST_MARK"] == "1"
