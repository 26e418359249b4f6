"""Pulling a base: the verified cache, by digest offline, damaged cache entries fetched again."""
import os

from pyko.platforms import Platform
from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.http import TransportOptions
from pyko.transport.registry.pull import open_remote_base

from hostile import FakeRegistry, base_image

AMD64 = Platform("linux", "amd64")


def test_pinned_base_builds_from_the_cache_alone(tmp_path):
    fake = FakeRegistry()
    base_image(fake, "base")
    first = open_remote_base(f"{fake.host}/base", Registries(TransportOptions()), str(tmp_path))
    first.image_for(AMD64)
    pinned = f"{fake.host}/base@{first.digest}"
    fake.close()  # the registry is gone
    again = open_remote_base(pinned, Registries(TransportOptions()), str(tmp_path))
    assert again.image_for(AMD64).digest == first.image_for(AMD64).digest


def test_a_damaged_cache_entry_is_fetched_again(tmp_path):
    fake = FakeRegistry()
    try:
        base_image(fake, "base")
        base = open_remote_base(f"{fake.host}/base", Registries(TransportOptions()), str(tmp_path))
        layer = base.image_for(AMD64).layers[0]
        fetched = lambda: len([s for s in fake.seen if s.path.endswith(layer.descriptor.digest)])  # noqa: E731
        assert fetched() == 0  # a base layer is fetched only when something reads it
        with layer.blob.open() as f:
            assert f.read() == b"not really a tarball"
        path = layer.blob.fetch()
        with open(path, "wb") as f:
            f.write(b"planted")  # same name, other bytes
        again = open_remote_base(f"{fake.host}/base", Registries(TransportOptions()), str(tmp_path))
        with again.image_for(AMD64).layers[0].blob.open() as f:
            f.read()
        assert fetched() == 2
        with open(path, "rb") as f:
            assert f.read() == b"not really a tarball"
        assert os.path.getsize(path) == layer.descriptor.size
    finally:
        fake.close()
