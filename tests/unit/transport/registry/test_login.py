"""transport/registry/login.py: credentials checked with the registry before they are saved where
docker saves them; a wrong password saves nothing; logout erases them."""
import base64
import json

import pytest

from pyko.errors import RegistryError, UsageError
from pyko.transport.registry.http import TransportOptions
from pyko.transport.registry.login import login, logout

from hostile import FakeRegistry

GOOD = "Basic " + base64.b64encode(b"me:right").decode()


@pytest.fixture
def basic_registry():
    fake = FakeRegistry()
    fake.route("GET", "/v2/", lambda h: h.reply(200) if h.headers.get("Authorization") == GOOD else h.reply(
        401, {"errors": [{"code": "UNAUTHORIZED", "message": "no"}]}, {"WWW-Authenticate": 'Basic realm="r"'}))
    yield fake
    fake.close()


def test_login_checks_then_saves_and_logout_erases(basic_registry, tmp_path):
    transport = TransportOptions(environ={"DOCKER_CONFIG": str(tmp_path)}, retries=0)
    where = login(basic_registry.host, "me", "right", transport)
    assert where.endswith("config.json")
    saved = json.loads((tmp_path / "config.json").read_text())["auths"][basic_registry.host]
    assert base64.b64decode(saved["auth"]) == b"me:right"
    assert logout(basic_registry.host, {"DOCKER_CONFIG": str(tmp_path)})
    assert basic_registry.host not in json.loads((tmp_path / "config.json").read_text()).get("auths", {})
    assert not logout(basic_registry.host, {"DOCKER_CONFIG": str(tmp_path)})


def test_a_wrong_password_is_refused_and_nothing_is_saved(basic_registry, tmp_path):
    transport = TransportOptions(environ={"DOCKER_CONFIG": str(tmp_path)}, retries=0)
    with pytest.raises(RegistryError, match="wrong username or password"):
        login(basic_registry.host, "me", "wrong", transport)
    assert not (tmp_path / "config.json").exists()


@pytest.mark.parametrize("name", ["", "reg.example/team", "https://"])
def test_a_registry_must_be_a_host(name, tmp_path):
    with pytest.raises(UsageError, match="is not a registry host"):
        login(name, "me", "pw", TransportOptions(environ={"DOCKER_CONFIG": str(tmp_path)}))
