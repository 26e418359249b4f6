"""transport/destinations/registry.py: the target reached before anything compiles; the index
pushed and tagged (or by digest only); the registry's warnings passed on once."""
import pytest

from pyko.errors import RegistryError
from pyko.reference import Reference
from pyko.transport.destinations import Outgoing
from pyko.transport.destinations.registry import RegistryDestination
from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.http import TransportOptions

from hostile import FakeRegistry, sha
from tiny_images import tiny_index


def test_push_with_and_without_tags_and_warnings_once():
    fake = FakeRegistry()
    try:
        fake.route("GET", "/v2/", lambda h: h.reply(200))
        fake.route("HEAD", "/v2/team/app/manifests/.*", lambda h: h.reply(404))
        fake.accepting_pushes("team/app")
        fake.routes.insert(0, ("PUT", "/v2/team/app/manifests/.*", lambda h: h.reply(
            201, headers={"Docker-Content-Digest": sha(h.body), "Warning": '299 - "quota nearly used"'})))
        registries = Registries(TransportOptions(retries=0))
        index = tiny_index()
        out = Outgoing(f"{fake.host}/team/app", index, ("v1",), Reference.parse(f"{fake.host}/team/app"))
        destination = RegistryDestination(registries, [fake.host], jobs=2)
        destination.check()
        lines = destination.write(out).splitlines()
        assert lines[0].startswith(f"pushed {fake.host}/team/app:v1 (")
        assert lines[1:] == [f'{fake.host} warns: 299 - "quota nearly used"']
        assert destination.location(out) == f"{fake.host}/team/app" and destination.takes_sboms
        by_digest = RegistryDestination(registries, [fake.host], jobs=2, move_tags=False).write(out)
        assert by_digest.startswith(f"pushed {fake.host}/team/app@{index.digest} (no tag moved)")
        assert not any(s.method == "PUT" and s.path.endswith("/manifests/v1") for s in fake.seen[-3:])
    finally:
        fake.close()


def test_a_registry_that_is_down_fails_the_check():
    with pytest.raises(RegistryError, match="connection refused"):
        RegistryDestination(Registries(TransportOptions(retries=0)), ["127.0.0.1:1"], jobs=1).check()
