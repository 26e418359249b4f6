"""Go's build cache as a registry artifact: pack/unpack, a foreign toolchain's cache, hostile layers,
and which layers a save keeps."""
import hashlib
import io
import os
import tarfile
from types import SimpleNamespace

import pytest

from pyko.errors import MalformedInput, NotFound, RegistryError
from pyko.image.digest import sha256_digest
from pyko.toolchains.gocache import artifact as go_cache
from pyko.toolchains.gocache.layout import action_path, output_path, write_atomically


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

    def fetch_blob(self, digest, size, dest, deadline=None):
        if sha256_digest(self.blobs[digest]) != digest:
            raise RegistryError(f"wrong content arrived for {digest}")   # what the real client says
        with open(dest, "wb") as f:
            f.write(self.blobs[digest])

    def blob_exists(self, digest):
        return digest in self.blobs

    def upload_blob(self, blob):
        with blob.open() as f:
            self.blobs[blob.descriptor.digest] = f.read()
        self.uploads += 1


def pull(repo, tag, root, go_version, scratch):
    """What a reader does: the manifest, then every layer into a staging directory, then adopted."""
    manifest = go_cache.read_manifest(repo, tag)
    staging = root + ".staging"
    os.makedirs(staging, exist_ok=True)
    pulled, line = go_cache.pull(repo, manifest, staging, go_version, scratch)
    os.makedirs(root, exist_ok=True)
    go_cache.adopt(staging, root)
    return pulled, line


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
    line, pushed = go_cache.save(repo, "ci", first, "go1.26.8", go_cache.PulledCache(), str(tmp_path / "s1"))
    assert "3 new entries, 1 layer(s)" in line and pushed.digest == sha256_digest(repo.tags["ci"])
    fresh = str(tmp_path / "fresh")
    pulled, line = pull(repo, "ci", fresh, "go1.26.8", str(tmp_path / "p"))
    assert pulled.actions == set(actions) and "3 entries" in line
    for action in actions:
        assert open(action_path(fresh, action), "rb").read() == open(action_path(first, action), "rb").read()
    # Nothing new and every layer used: nothing is pushed again.
    used(fresh, "hit", actions)
    uploads = repo.uploads
    line, pushed = go_cache.save(repo, "ci", fresh, "go1.26.8", pulled, str(tmp_path / "s2"))
    assert line.startswith("go cache: unchanged") and pushed is None
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
    pulled, line = pull(repo, "ci", fresh, "go1.26.8", str(tmp_path / "p"))
    assert pulled.actions == set() and "written by 'go1.25.0'" in line
    assert not os.path.exists(os.path.join(fresh, "a"))


def test_a_save_keeps_the_layers_it_used_and_drops_the_others(tmp_path):
    repo, root = FakeRepository(), str(tmp_path / "r")
    old, kept = entry(root, b"old"), entry(root, b"kept")
    used(root, "put", [old])
    go_cache.save(repo, "ci", root, "go1", go_cache.PulledCache(), str(tmp_path / "s1"))
    used(root, "put", [kept])
    pulled = pull(repo, "ci", str(tmp_path / "x"), "go1", str(tmp_path / "p"))[0]
    go_cache.save(repo, "ci", root, "go1", pulled, str(tmp_path / "s2"))   # two layers now
    runner = str(tmp_path / "runner")
    pulled = pull(repo, "ci", runner, "go1", str(tmp_path / "p2"))[0]
    assert len(pulled.layers) == 2
    new = entry(runner, b"new")
    used(runner, "hit", [kept])
    used(runner, "put", [new])
    go_cache.save(repo, "ci", runner, "go1", pulled, str(tmp_path / "s3"))
    final = pull(repo, "ci", str(tmp_path / "final"), "go1", str(tmp_path / "p3"))[0]
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
        pull(repo, "ci", str(tmp_path / "r"), "go1", str(tmp_path / "p"))
    assert go_cache.read_manifest(repo, "absent") is None


def _saved(tmp_path, bodies=(b"one", b"two")):
    """A repository holding a cache of `bodies` under tag ci; (repository, its actions)."""
    repo, root = FakeRepository(), str(tmp_path / "writer")
    actions = [entry(root, body) for body in bodies]
    used(root, "put", actions)
    go_cache.save(repo, "ci", root, "go1", go_cache.PulledCache(), str(tmp_path / "save"))
    return repo, actions


def _layer(tmp_path, members) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _with_layers(repo, layers):
    """Re-point tag ci at a manifest with these layer bodies (the blobs pushed too, or not)."""
    import json

    manifest = json.loads(repo.tags["ci"])
    manifest["layers"] = []
    for body, push in layers:
        digest = sha256_digest(body)
        if push:
            repo.blobs[digest] = body
        manifest["layers"].append({"mediaType": go_cache.LAYER_TYPE, "digest": digest, "size": len(body)})
    repo.tags["ci"] = json.dumps(manifest).encode()
    return manifest


def test_one_bad_layer_among_good_ones_leaves_nothing_to_serve(tmp_path):
    repo, _ = _saved(tmp_path)
    good = repo.blobs[next(iter(__import__("json").loads(repo.tags["ci"])["layers"]))["digest"]]
    _with_layers(repo, [(good, True), (b"not gzip at all", True)])
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(MalformedInput, match="not a readable tar\\+gzip layer"):
        go_cache.pull(repo, go_cache.read_manifest(repo, "ci"), str(staging), "go1", str(tmp_path / "p"))
    root = tmp_path / "root"
    root.mkdir()
    assert not os.listdir(root)   # the caller adopts nothing: the good layer's entries are never served


@pytest.mark.parametrize("body, why", [
    (b"", "not a readable"), (b"\x1f\x8b\x08\x00", "not a readable"),   # empty, truncated gzip
])
def test_a_layer_that_is_not_a_whole_tar_gzip_is_malformed_not_a_crash(tmp_path, body, why):
    path = tmp_path / "layer"
    path.write_bytes(body)
    with pytest.raises(MalformedInput, match=why):
        go_cache.unpack(str(path), str(tmp_path / "root"), "a layer")


def test_a_layer_listed_twice_is_refused_before_anything_is_fetched(tmp_path):
    repo, _ = _saved(tmp_path)
    import json

    manifest = json.loads(repo.tags["ci"])
    manifest["layers"] = manifest["layers"] * 200
    repo.tags["ci"] = json.dumps(manifest).encode()
    with pytest.raises(MalformedInput, match="layers|more than once"):
        go_cache.pull(repo, go_cache.read_manifest(repo, "ci"), str(tmp_path / "s"), "go1", str(tmp_path / "p"))


def test_layers_claiming_more_than_a_cache_holds_are_refused_unfetched(tmp_path):
    repo, _ = _saved(tmp_path)
    import json

    manifest = json.loads(repo.tags["ci"])
    manifest["layers"][0]["size"] = 4 << 30
    repo.tags["ci"] = json.dumps(manifest).encode()
    with pytest.raises(MalformedInput, match="larger than a Go cache pyko reads"):
        go_cache.pull(repo, go_cache.read_manifest(repo, "ci"), str(tmp_path / "s"), "go1", str(tmp_path / "p"))


def test_an_action_entry_out_of_bounds_makes_the_layer_malformed(tmp_path):
    output = hashlib.sha256(b"x").hexdigest()
    archive = tmp_path / "layer.tgz"
    archive.write_bytes(_layer(tmp_path, [("a/" + "1" * 64, f"{output} 1 {'9' * 200}".encode()),
                                          ("o/" + output, b"x")]))
    with pytest.raises(MalformedInput, match="action entry 111111111111 is malformed"):
        go_cache.unpack(str(archive), str(tmp_path / "root"), "a layer")


def test_a_compression_bomb_is_stopped_by_the_ratio(tmp_path):
    output = hashlib.sha256(b"\0" * (8 << 20)).hexdigest()
    archive = tmp_path / "bomb.tgz"
    archive.write_bytes(_layer(tmp_path, [("o/" + output, b"\0" * (8 << 20))]))
    size = archive.stat().st_size
    assert size < (8 << 20) // go_cache.MAX_RATIO   # compresses far better than compiled code
    with pytest.raises(MalformedInput, match="compression bomb"):
        go_cache.unpack(str(archive), str(tmp_path / "root"), "a layer", compressed=size - (1 << 20) // 64)


def test_the_budget_bounds_all_layers_together(tmp_path):
    output = hashlib.sha256(b"y" * 1000).hexdigest()
    archive = tmp_path / "layer.tgz"
    archive.write_bytes(_layer(tmp_path, [("o/" + output, b"y" * 1000)]))
    budget = [1500]
    go_cache.unpack(str(archive), str(tmp_path / "r1"), "layer 1", budget=budget)
    assert budget == [500]
    with pytest.raises(MalformedInput, match="unpacks to more than 500 bytes"):
        go_cache.unpack(str(archive), str(tmp_path / "r2"), "layer 2", budget=budget)
