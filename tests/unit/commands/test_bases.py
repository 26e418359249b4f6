"""Bases: the built-in one and a registry's, behind one protocol."""
import pytest

from pyko.commands.bases import BuiltinBase, open_base
from pyko.errors import UsageError
from pyko.platforms import Platform
from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.http import TransportOptions

from hostile import FakeRegistry, base_image

AMD64 = Platform("linux", "amd64")


@pytest.fixture
def fake():
    registry = FakeRegistry()
    base_image(registry, "base")
    yield registry
    registry.close()


def test_builtin_base(tmp_path):
    base = open_base("pyko://static", str(tmp_path), Registries(TransportOptions()))
    assert isinstance(base, BuiltinBase) and len(base.platforms()) == 8
    assert base.annotations() == {} and base.annotations(AMD64) == {}
    assert base.identity(AMD64) == ("pyko://static", base.image_for(AMD64).digest)
    assert all(layer.source == "" for layer in base.image_for(AMD64).layers)  # nothing to mount it from


def test_registry_base_offers_the_same(fake, tmp_path):
    base = open_base(f"{fake.host}/base", str(tmp_path), Registries(TransportOptions()))
    assert base.platforms() == [AMD64]
    image = base.image_for(AMD64)
    assert base.annotations() == {"org.opencontainers.image.base.name": f"{fake.host}/base:latest",
                                  "org.opencontainers.image.base.digest": base.digest}
    assert base.annotations(AMD64)["org.opencontainers.image.base.digest"] == image.digest
    assert base.identity(AMD64) == (f"{fake.host}/base:latest", image.digest)
    assert [layer.source for layer in image.layers] == [f"{fake.host}/base"]  # mountable from there


def test_other_pyko_schemes_are_refused(tmp_path):
    with pytest.raises(UsageError, match="the only pyko:// base is pyko://static"):
        open_base("pyko://other", str(tmp_path), Registries(TransportOptions()))
