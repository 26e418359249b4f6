"""Pushing an index: existing blobs skipped, base layers mounted, manifests then tags."""
from pyko.image import BytesBlob, Image, Index, Layer
from pyko.reference import Reference
from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.push import push_index

from hostile import FakeRegistry


def _index(source):
    base_layer = Layer(BytesBlob("application/vnd.oci.image.layer.v1.tar+gzip", b"base"), "sha256:" + "1" * 64,
                       source=source)
    app_layer = Layer(BytesBlob("application/vnd.oci.image.layer.v1.tar+gzip", b"app"), "sha256:" + "2" * 64)
    config = {"architecture": "amd64", "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [base_layer.diff_id, app_layer.diff_id]}}
    return Index.build([Image.build(config, [base_layer, app_layer])])


def test_push_mounts_base_layers_uploads_the_rest_and_tags(tmp_path):
    fake = FakeRegistry()
    mounts = []

    def post(h):
        if "mount=" in h.path:
            mounts.append(h.path)
            fake.blobs[h.path.split("mount=", 1)[1].split("&", 1)[0].replace("%3A", ":")] = b"mounted"
            return h.reply(201)
        h.reply(202, headers={"Location": "/v2/team/app/blobs/uploads/s"})
    fake.routes.append(("POST", "/v2/team/app/blobs/uploads/", post))
    fake.accepting_pushes("team/app")
    try:
        index = _index(f"{fake.host}/library/base")
        target = Reference.parse(f"{fake.host}/team/app")
        stats = push_index(Registries({})(fake.host), target, index, ["latest", "v1"])
        assert len(mounts) == 1 and "from=library%2Fbase" in mounts[0]
        assert stats.mounted == 1 and stats.uploaded == 2 and stats.existing == 0  # app layer and config
        puts = [s.path for s in fake.seen if s.method == "PUT" and "/manifests/" in s.path]
        assert puts[-2:] == ["/v2/team/app/manifests/latest", "/v2/team/app/manifests/v1"]
        # A second push finds everything there.
        again = push_index(Registries({})(fake.host), target, index, ["latest"])
        assert again.uploaded == 0 and again.existing == 3
    finally:
        fake.close()


def test_layers_from_another_registry_are_uploaded_not_mounted(tmp_path):
    fake = FakeRegistry()
    fake.accepting_pushes("team/app")
    try:
        stats = push_index(Registries({})(fake.host), Reference.parse(f"{fake.host}/team/app"),
                           _index("other.io/library/base"), ["latest"])
        assert stats.mounted == 0 and stats.uploaded == 3
        assert not [s for s in fake.seen if "mount=" in s.path]
    finally:
        fake.close()


def test_an_index_already_there_only_moves_the_tags_that_need_it():
    fake = FakeRegistry()
    index = _index("")
    try:
        def head(h):
            ident = h.path.rsplit("/", 1)[1]
            there = ident in (index.digest, "latest")  # "latest" already points at it, "v2" does not
            h.reply(200 if there else 404, headers={"Docker-Content-Digest": index.digest} if there else None)
        fake.route("HEAD", "/v2/team/app/manifests/.*", head)
        fake.accepting_pushes("team/app")
        stats = push_index(Registries({})(fake.host), Reference.parse(f"{fake.host}/team/app"), index,
                           ["latest", "v2"])
        assert [s.path for s in fake.seen if s.method == "PUT"] == ["/v2/team/app/manifests/v2"]
        assert not [s for s in fake.seen if "/blobs/" in s.path]  # no blob was even looked at
        assert stats.uploaded == 0 and stats.tags_already == 1
        assert "1 tag(s) already pointed at it" in stats.summary()
    finally:
        fake.close()
