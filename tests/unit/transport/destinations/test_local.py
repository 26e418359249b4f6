"""transport/destinations/local.py: the image loaded into the engine as one docker-load archive,
under its tags and pyko.local's digest tag; it says when the engine keeps one platform only."""
import tarfile

import pytest

import pyko.transport.destinations.local as local
from pyko.errors import UsageError
from pyko.transport.destinations import Outgoing
from pyko.transport.destinations.local import LocalDestination

from tiny_images import tiny_index


class RecordingEngine:
    name = "podman"

    def __init__(self, indexes):
        self.indexes, self.loaded = indexes, []

    def check(self):
        pass

    def holds_indexes(self):
        return self.indexes

    def load(self, archive):
        with tarfile.open(archive) as tar:
            self.loaded.append(sorted(tar.getnames()))


@pytest.mark.parametrize("holds_indexes", [True, False])
def test_loaded_once_under_every_tag_and_the_digest_tag(monkeypatch, holds_indexes):
    engine = RecordingEngine(holds_indexes)
    monkeypatch.setattr(local, "find_engine", lambda choice, environ: engine)
    index = tiny_index(("amd64", "arm64"))
    out = Outgoing("pyko.local/app", index, ("v1",))
    destination = LocalDestination("auto", {})
    destination.check()
    line = destination.write(out)
    assert len(engine.loaded) == 1 and "manifest.json" in engine.loaded[0]
    assert destination.location(out) == f"pyko.local/app:{index.digest.split(':')[1]}"
    assert line.startswith(f"loaded {destination.location(out)} into podman")
    assert ("(2 platform(s))" in line) == holds_indexes
    assert ("keeps one platform per name" in line) != holds_indexes
    assert destination.attachments(out) is None


def test_an_engine_that_is_not_there_is_named(tmp_path):
    destination = LocalDestination("podman", {"PATH": str(tmp_path), "PYKO_PODMAN": "podman"})
    with pytest.raises(UsageError, match="podman is not installed"):
        destination.check()


@pytest.mark.parametrize("platform, loaded", [("", "linux/amd64"), ("linux/arm64", "linux/arm64"),
                                              ("linux/s390x", "linux/amd64")])
def test_a_one_platform_store_gets_the_preferred_platform_else_the_first(monkeypatch, platform, loaded):
    """This machine's (amd64 here) by default; ko's $GOOS/$GOARCH choice when the plan gives one; the
    first built when the index lacks it."""
    engine = RecordingEngine(False)
    monkeypatch.setattr(local, "find_engine", lambda choice, environ: engine)
    monkeypatch.setattr(local.Platform, "host", classmethod(lambda cls: cls.parse("linux/amd64")))
    chosen = local.Platform.parse(platform) if platform else None
    line = LocalDestination("auto", {}, chosen).write(Outgoing("ko.local/app", tiny_index(("amd64", "arm64")), ()))
    assert f"({loaded} only:" in line
