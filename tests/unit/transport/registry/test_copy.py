"""transport/registry/copy.py: a manifest copied across registries with its blobs streamed and
checked, its exact bytes kept; within one repository nothing moves but the tag."""
import json

from pyko.transport.registry.copy import copy_manifest, same_place
from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.http import TransportOptions
from pyko.transport.registry.push import PushStats
from pyko.transport.registry.repository import Repository

from hostile import FakeRegistry, base_image, sha


def test_across_registries_blobs_are_streamed_and_the_manifest_kept_byte_for_byte():
    source, target = FakeRegistry(), FakeRegistry()
    try:
        base_image(source, "lib/base", "v1")
        target.accepting_pushes("team/copy")
        put = []
        target.routes.insert(0, ("PUT", "/v2/team/copy/manifests/.*", lambda h: put.append((h.path, h.body)) or h.reply(
            201, headers={"Docker-Content-Digest": sha(h.body)})))
        registries = Registries(TransportOptions(retries=1, backoff=0.01))
        src, dst = Repository(registries(source.host), "lib/base"), Repository(registries(target.host), "team/copy")
        stats = PushStats()
        digest = copy_manifest(src, dst, "v1", stats, tag="v1")
        raw, _, _ = src.get_manifest("v1")
        assert digest == sha(raw)
        index_puts = [body for path, body in put if body == raw]
        assert len(index_puts) == 2  # by digest, then the tag
        child = json.loads(raw)["manifests"][0]["digest"]
        assert any(path.endswith(child) for path, _ in put)  # the platform's manifest went first
        assert len(target.blobs) == 2  # its config and layer, streamed from the source
    finally:
        source.close()
        target.close()


def test_same_place_is_one_registry_and_one_repository():
    registries = Registries(TransportOptions())
    a = Repository(registries("reg.example"), "team/app")
    assert same_place(a, Repository(registries("reg.example"), "team/app"))
    assert not same_place(a, Repository(registries("reg.example"), "team/other"))
    assert not same_place(a, Repository(registries("other.example"), "team/app"))
