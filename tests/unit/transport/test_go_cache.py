"""Go's build cache as a registry artifact: pack/unpack, a foreign toolchain's cache, hostile layers,
and which layers a save keeps."""
import hashlib
import io
import os
import tarfile
from types import SimpleNamespace

import pytest

from pyko.errors import MalformedInput, NotFound
from pyko.image.digest import sha256_digest
from pyko.transport import go_cache
from pyko.util.gocache_dir import action_path, output_path, write_atomically


class FakeRepository:
    """The Repository methods the cache store uses, over dicts."""

    def __init__(self):
        self.registry, self.name = SimpleNamespace(registry="reg.test"), "team/cache"
        self.blobs, self.tags, self.uploads = {}, {}, 0

    def get_manifest(self, tag):
        if tag not in self.tags:
            raise NotFound("no such tag")
        return self.tags[tag], "", sha256_digest(self.tags[tag])

    def put_manifest(self, tag, data, media_type):
        self.tags[tag] = data

    def read_blob(self, digest, size):
        return self.blobs[digest]

    def fetch_blob(self, digest, size, dest):
        with open(dest, "wb") as f:
            f.write(self.blobs[digest])

    def blob_exists(self, digest):
        return digest in self.blobs

    def upload_blob(self, blob):
        with blob.open() as f:
            self.blobs[blob.descriptor.digest] = f.read()
        self.uploads += 1


def entry(root, body: bytes) -> str:
    action = os.urandom(32).hex()
    output = hashlib.sha256(body).hexdigest()
    write_atomically(output_path(root, output), body)
    write_atomically(action_path(root, action), f"{output} {len(body)} 1".encode())
    return action


def used(root, kind, actions):
    os.makedirs(os.path.join(root, "used"), exist_ok=True)
    with open(os.path.join(root, "used", f"{kind}-{len(actions)}"), "a") as f:
        f.writelines(f"{kind} {a}\n" for a in actions)


def test_save_then_pull_on_a_fresh_runner_restores_the_entries(tmp_path):
    repo, first = FakeRepository(), str(tmp_path / "first")
    actions = [entry(first, f"object {n}".encode()) for n in range(3)]
    used(first, "put", actions)
    line = go_cache.save(repo, "ci", first, "go1.26.8", go_cache.PulledCache(), str(tmp_path / "s1"))
    assert "3 new entries, 1 layer(s)" in line
    fresh = str(tmp_path / "fresh")
    pulled, line = go_cache.pull(repo, "ci", fresh, "go1.26.8", str(tmp_path / "p"))
    assert pulled.actions == set(actions) and "3 entries" in line
    for action in actions:
        assert open(action_path(fresh, action), "rb").read() == open(action_path(first, action), "rb").read()
    # Nothing new and every layer used: nothing is pushed again.
    used(fresh, "hit", actions)
    uploads = repo.uploads
    assert go_cache.save(repo, "ci", fresh, "go1.26.8", pulled, str(tmp_path / "s2")).startswith("go cache: unchanged")
    assert repo.uploads == uploads


def test_the_same_entries_pack_to_the_same_bytes(tmp_path):
    root = str(tmp_path / "r")
    actions = [entry(root, b"x"), entry(root, b"y")]
    one = go_cache.pack(root, actions, str(tmp_path / "one.tgz"))
    two = go_cache.pack(root, reversed(actions), str(tmp_path / "two.tgz"))
    assert one.descriptor.digest == two.descriptor.digest


def test_a_cache_written_by_another_go_is_not_served(tmp_path):
    repo, root = FakeRepository(), str(tmp_path / "r")
    action = entry(root, b"object")
    used(root, "put", [action])
    go_cache.save(repo, "ci", root, "go1.25.0", go_cache.PulledCache(), str(tmp_path / "s"))
    fresh = str(tmp_path / "fresh")
    pulled, line = go_cache.pull(repo, "ci", fresh, "go1.26.8", str(tmp_path / "p"))
    assert pulled.actions == set() and "written by 'go1.25.0'" in line
    assert not os.path.exists(os.path.join(fresh, "a"))


def test_a_save_keeps_the_layers_it_used_and_drops_the_others(tmp_path):
    repo, root = FakeRepository(), str(tmp_path / "r")
    old, kept = entry(root, b"old"), entry(root, b"kept")
    used(root, "put", [old])
    go_cache.save(repo, "ci", root, "go1", go_cache.PulledCache(), str(tmp_path / "s1"))
    used(root, "put", [kept])
    pulled = go_cache.pull(repo, "ci", str(tmp_path / "x"), "go1", str(tmp_path / "p"))[0]
    go_cache.save(repo, "ci", root, "go1", pulled, str(tmp_path / "s2"))   # two layers now
    runner = str(tmp_path / "runner")
    pulled = go_cache.pull(repo, "ci", runner, "go1", str(tmp_path / "p2"))[0]
    assert len(pulled.layers) == 2
    new = entry(runner, b"new")
    used(runner, "hit", [kept])
    used(runner, "put", [new])
    go_cache.save(repo, "ci", runner, "go1", pulled, str(tmp_path / "s3"))
    final = go_cache.pull(repo, "ci", str(tmp_path / "final"), "go1", str(tmp_path / "p3"))[0]
    assert final.actions == {kept, new}   # the layer only `old` was in expired with it


@pytest.mark.parametrize("name, kind", [
    ("../escape", tarfile.REGTYPE), ("a/" + "0" * 64, tarfile.SYMTYPE), ("o/not-hex", tarfile.REGTYPE),
    ("/etc/" + "0" * 64, tarfile.REGTYPE),
])
def test_a_layer_with_anything_but_entries_is_refused(tmp_path, name, kind):
    archive = str(tmp_path / "bad.tgz")
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.type = kind
        data = b"x"
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    with pytest.raises(MalformedInput, match="is not a cache entry"):
        list(go_cache.unpack(archive, str(tmp_path / "root"), "a layer"))
    assert not os.path.exists(tmp_path / "escape")


def test_an_artifact_that_is_not_a_go_cache_is_refused(tmp_path):
    repo = FakeRepository()
    repo.tags["ci"] = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
                       b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'
                       + b"0" * 64 + b'","size":2},"layers":[]}')
    with pytest.raises(MalformedInput, match="is not a pyko Go build cache"):
        go_cache.pull(repo, "ci", str(tmp_path / "r"), "go1", str(tmp_path / "p"))
